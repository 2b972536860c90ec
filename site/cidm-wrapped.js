// cidm-wrapped.js: the CIDM Wrapped browser object `$jc.qgcidm`, on top of colorid.js, so a
// page written for the CIDM Wrapped guide runs on colorid by changing one script tag:
//   <script src="/cidm-wrapped.js"></script>
// A classic script: no module, no build step, no inline script and no eval, so it runs under
// the site's Content-Security-Policy (script-src 'self'). It loads colorid.js (an ES module)
// from its own folder with import(), which that policy allows. Until colorid.js has loaded,
// calls are queued; `$jc.qgcidm.ready` resolves once `initialise` has been applied.
// What differs from CIDM Wrapped, and why: site/README.md, "Moving from CIDM Wrapped".
(function () {
  'use strict';

  var here = document.currentScript && document.currentScript.src ? document.currentScript.src : location.origin + '/cidm-wrapped.js';
  var MODULE_URL = new URL('colorid.js', here).href;
  var PREFIX = 'colorid_';
  // The guide's levels and the assurance levels colorid's stacks speak.
  var LEVELS = { Level_1: 'AAL1', Level_2: 'AAL2' };
  var RANK = { AAL1: 1, AAL2: 2, AAL3: 3 };
  // The guide's storage keys that name the session, not page data.
  var SESSION_KEYS = ['access_token', 'id_token', 'modified', 'started'];
  var TOKEN_KEYS = ['id_token', 'access_token', 'expires_at', 'user', 'refresh_token'];
  // Settings of the guide that colorid takes elsewhere, and where.
  var IGNORED = {
    home: 'the identity provider comes from the stack ([identity] issuer, /config.json)',
    domain: 'the identity provider comes from the stack ([identity] issuer, /config.json)',
    clientID: 'the client id comes from the stack ([identity] client_id, /config.json)',
    webtaskHome: 'colorid has no webtasks: the identity function serves /api',
    wrapped: 'colorid always signs in with a redirect (authorization code + PKCE)',
    myAccountURL: 'the widget has no account menu',
  };

  var colorid = null; // the colorid.js module, once loaded
  var site = null; // /config.json, once read
  var initialised = false;
  var pending = Promise.resolve();
  var loginFns = [];
  var logoutFns = [];
  var elementFns = []; // [element, 'login' | 'logout', fn]
  var avatars = [];

  function log() {
    if (qgcidm.config.verbose) console.log.apply(console, ['qgcidm:'].concat([].slice.call(arguments)));
  }

  function callbackList(list) {
    return {
      add: function () {
        for (var i = 0; i < arguments.length; i++) {
          var fn = arguments[i];
          if (typeof fn !== 'function') continue;
          list.push(fn);
          // Added after sign-in completed: run now, so a late listener never misses it.
          if (list === loginFns && initialised && user()) call(fn, null, [user()]);
        }
        return this;
      },
      remove: function (fn) {
        var i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
        return this;
      },
      has: function (fn) {
        return fn ? list.indexOf(fn) >= 0 : list.length > 0;
      },
    };
  }

  function call(fn, self, args) {
    try {
      fn.apply(self, args);
    } catch (e) {
      console.error('qgcidm: a callback failed:', e);
    }
  }

  /** The signed-in user's ID token claims, or null; readable before colorid.js has loaded. */
  function user() {
    if (colorid) return colorid.user();
    var exp = Number(sessionStorage.getItem(PREFIX + 'expires_at'));
    if (!sessionStorage.getItem(PREFIX + 'id_token') || !(exp > Date.now() / 1000)) return null;
    try {
      return JSON.parse(sessionStorage.getItem(PREFIX + 'user'));
    } catch (e) {
      return null;
    }
  }

  /** The token the page may hand to its server: colorid.js's access token when it has one, else the ID token. */
  function accessToken() {
    // colorid.js has an access token only for a stack with `api_audience`; else the ID token.
    if (colorid && typeof colorid.accessToken === 'function' && colorid.accessToken()) return colorid.accessToken();
    if (colorid) return colorid.token();
    if (!user()) return null;
    return sessionStorage.getItem(PREFIX + 'access_token') || sessionStorage.getItem(PREFIX + 'id_token');
  }

  /** The attribute names `config.attributes` asks for: a list of names, a list of
   * {name} requests, or an object of name -> true/false; undefined keeps the default. */
  function attributeNames(a) {
    if (Array.isArray(a)) {
      return a.map(function (x) { return typeof x === 'string' ? x : x && x.name; }).filter(Boolean);
    }
    if (a && typeof a === 'object') return Object.keys(a).filter(function (k) { return a[k]; });
    return undefined;
  }

  function requiredLevel() {
    var level = qgcidm.config.level;
    if (level && !LEVELS[level]) log('level ' + JSON.stringify(level) + ' is not Level_1 or Level_2; the stack\'s level applies');
    var wanted = LEVELS[level];
    var stack = site && site.requiredLevel;
    // Never below what the stack requires: the identity function enforces that level anyway.
    return stack && (!wanted || RANK[stack] > RANK[wanted]) ? stack : wanted;
  }

  /** Whether the signed-in user is below the configured level (then the widget offers a step-up). */
  function needsStepUp() {
    var wanted = requiredLevel();
    if (!wanted || wanted === 'AAL1' || !user()) return false;
    // The function's Level attribute when the page asked for it, else the token's own acr.
    var have = (colorid && colorid.searchAttribute('Level')) || user().acr;
    return !(RANK[have] >= RANK[wanted]);
  }

  function returnPath() {
    var r = qgcidm.config.returnTo;
    if (r) {
      try {
        var u = new URL(r, location.href);
        if (u.origin === location.origin) return u.pathname + u.search;
      } catch (e) {
        // Not a URL: fall through.
      }
      log('returnTo ' + JSON.stringify(r) + ' is not on this site; sign-in returns to this page');
    }
    return location.pathname + location.search;
  }

  function button(text, cls, onclick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.addEventListener('click', function (e) {
      e.preventDefault();
      onclick();
    });
    return b;
  }

  /** The profile widget: a sign-in button; signed in, the initials or picture, and a sign-out button. */
  function renderWidget(el) {
    el.replaceChildren();
    el.classList.add('qgcidm-widget');
    var u = initialised ? user() : null;
    if (!u) {
      el.classList.remove('logged-in');
      el.classList.add('logged-out');
      el.append(button('Sign in', 'qgcidm-login', function () { qgcidm.login(); }));
      return;
    }
    el.classList.remove('logged-out');
    el.classList.add('logged-in');
    var who = document.createElement('span');
    who.className = 'qgcidm-avatar-who';
    colorid.renderProfile(who, u);
    el.append(who);
    if (needsStepUp()) {
      el.append(button('Verify your identity', 'qgcidm-step-up', function () { qgcidm.login({ level: qgcidm.config.level }); }));
    }
    el.append(button('Sign out', 'qgcidm-logout', function () { qgcidm.logout(); }));
  }

  function widgets() {
    var list = avatars.slice();
    var id = qgcidm.config.avatar || 'qgcidm-avatar';
    var el = document.getElementById(id);
    if (el && list.indexOf(el) < 0) list.push(el);
    return list;
  }

  function renderAll() {
    widgets().forEach(renderWidget);
  }

  function fire(kind, info) {
    renderAll();
    var u = user();
    log(kind === 'login' ? 'signed in' : 'signed out', kind === 'login' ? (u && u.sub) : (info && info.reason));
    (kind === 'login' ? loginFns : logoutFns).slice().forEach(function (fn) { call(fn, qgcidm, kind === 'login' ? [u] : [info]); });
    elementFns.forEach(function (e) {
      if (e[1] === kind) call(e[2], e[0], [e[0], kind === 'login' ? u : info]);
    });
  }

  function load() {
    if (!load.promise) {
      load.promise = import(MODULE_URL).then(function (m) {
        colorid = m;
        // Registered before the first init, whose sign-in check then runs them.
        m.onLogin(function () { if (initialised) fire('login'); });
        m.onLogout(function (info) { fire('logout', info); });
        return fetch('/config.json', { cache: 'no-store' });
      }).then(function (resp) {
        if (!resp.ok) throw new Error('/config.json answered ' + resp.status);
        return resp.json();
      }).then(function (cfg) {
        site = cfg;
        return colorid;
      });
    }
    return load.promise;
  }

  /** Applies `config` (again): the level, the attributes, verbose logging and the widget's element. */
  function apply() {
    return load().then(function () {
      var c = qgcidm.config;
      Object.keys(c).forEach(function (k) {
        if (Object.prototype.hasOwnProperty.call(IGNORED, k)) log('setting ' + k + ' is not used: ' + IGNORED[k]);
      });
      var names = attributeNames(c.attributes);
      var cfg = Object.assign({}, site, { verbose: !!c.verbose, requiredLevel: requiredLevel() });
      if (names) cfg.attributes = names;
      log('initialising', { level: cfg.requiredLevel || 'none', attributes: cfg.attributes || 'the default list', avatar: c.avatar || 'qgcidm-avatar' });
      initialised = true;
      return colorid.init(cfg);
    }).then(function () {
      renderAll();
      log('profile.attributes', qgcidm.profile.attributes);
      return qgcidm;
    }).catch(function (e) {
      console.error('qgcidm: could not start:', e.message);
      throw e;
    });
  }

  var qgcidm = {
    /** The configuration; change it and call initialise() again to apply it. */
    config: { level: 'Level_1', verbose: false, avatar: 'qgcidm-avatar' },
    levels: LEVELS,
    /** The signed-in user: `attributes` as /api/v1/customer_attributes released them, and the name claims. */
    profile: {
      get attributes() { return colorid ? colorid.profile.attributes : []; },
      get name() { var u = user(); return u ? u.name : undefined; },
      get nickname() { var u = user(); return u ? u.nickname : undefined; },
      get email() { var u = user(); return u ? u.email : undefined; },
      get picture() { var u = user(); return u ? u.picture : undefined; },
    },
    _onLogin: callbackList(loginFns),
    _onLogout: callbackList(logoutFns),
    /** Resolves to this object once the latest initialise() has been applied. */
    ready: pending,

    /** Merges `config` into `qgcidm.config` and applies it; resolves (as `ready`) once applied. */
    initialise: function (config) {
      if (config) Object.keys(config).forEach(function (k) { qgcidm.config[k] = config[k]; });
      pending = pending.catch(function () {}).then(apply);
      qgcidm.ready = pending;
      pending.catch(function () {});
      return pending;
    },

    /** CIDM Wrapped's second start-up call: initialise() already did the work; renders the widget again. */
    enable: function () {
      qgcidm.ready.then(renderAll, function () {});
      return qgcidm;
    },

    /** Sends the browser to sign in, back to this page after; {level: 'Level_2'} steps up. */
    login: function (opts) {
      var level = LEVELS[(opts && opts.level) || qgcidm.config.level];
      var acr = level === 'AAL1' ? requiredLevel() : level;
      return load().then(function () {
        log('signing in', acr ? 'at ' + acr : '');
        return colorid.login({ acrValues: acr && acr !== 'AAL1' ? acr : undefined, returnTo: returnPath() });
      });
    },

    /** The value of attribute `name` in profile.attributes, or undefined. */
    searchAttribute: function (name) {
      return colorid ? colorid.searchAttribute(name) : undefined;
    },

    /** Synchronous: the session's token for access_token/id_token, its start and last renewal
     * (ms since 1970) for started/modified, else the page's own value under the colorid_ prefix. */
    getStorageItem: function (key) {
      var u = user();
      switch (key) {
        case 'access_token':
          return accessToken();
        case 'id_token':
          return u ? sessionStorage.getItem(PREFIX + 'id_token') : null;
        case 'started':
          return u && (u.auth_time || u.iat) ? String((u.auth_time || u.iat) * 1000) : null;
        case 'modified':
          return u && u.iat ? String(u.iat * 1000) : null;
        default:
          return sessionStorage.getItem(PREFIX + key);
      }
    },

    /** Calls `cb(value)` with getStorageItem(key); also resolves to it. */
    getStorage: function (key, cb) {
      var v = qgcidm.getStorageItem(key);
      return Promise.resolve(v).then(function (value) {
        if (typeof cb === 'function') cb(value);
        return value;
      });
    },

    /** Stores `value` under `key` and calls `cb(value)`. The guide's two-argument form
     * setStorage(key, cb) stores nothing and calls `cb` with the stored value. The session's
     * own keys are not writable: a token comes only from a sign-in. */
    setStorage: function (key, value, cb) {
      if (typeof value === 'function' && cb === undefined) return qgcidm.getStorage(key, value);
      if (SESSION_KEYS.indexOf(key) >= 0) {
        log('setStorage(' + key + ') refused: the session\'s token and timers come only from a sign-in');
        return qgcidm.getStorage(key, cb);
      }
      sessionStorage.setItem(PREFIX + key, String(value));
      return Promise.resolve(value).then(function (v) {
        if (typeof cb === 'function') cb(v);
        return v;
      });
    },

    /** Removes each key: access_token (or id_token) removes the session's tokens, so the user is
     * signed out on the next check; started and modified are read from the token and go with it. */
    delStorage: function () {
      [].slice.call(arguments).forEach(function (key) {
        if (key === 'access_token' || key === 'id_token') {
          TOKEN_KEYS.forEach(function (k) { sessionStorage.removeItem(PREFIX + k); });
        } else if (key === 'started' || key === 'modified') {
          log('delStorage(' + key + '): read from the session\'s token, which delStorage(\'access_token\') removes');
        } else {
          sessionStorage.removeItem(PREFIX + key);
        }
      });
      if (initialised) renderAll();
    },

    /** Signs the user out, clears the session and tells the user it has expired. */
    session_expired: function () {
      return load().then(function () {
        colorid.sessionExpired();
        alert('Your session has expired, so you have been signed out. Please sign in again.');
      });
    },

    /** Signs the user out and clears the session (and the provider's session when it offers that). */
    logout: function () {
      return load().then(function () { return colorid.logout(); });
    },
  };

  /** Per-element callbacks and the widget on a set of elements. */
  function decorate(set, elements) {
    set.onLogin = function (fn) {
      elements.forEach(function (el) {
        elementFns.push([el, 'login', fn]);
        if (initialised && user()) call(fn, el, [el, user()]);
      });
      return set;
    };
    set.onLogout = function (fn) {
      elements.forEach(function (el) { elementFns.push([el, 'logout', fn]); });
      return set;
    };
    set.avatar = function () {
      elements.forEach(function (el) {
        if (avatars.indexOf(el) < 0) avatars.push(el);
        renderWidget(el);
      });
      return set;
    };
    return set;
  }

  function elementsOf(target) {
    if (typeof target === 'string') return [].slice.call(document.querySelectorAll(target));
    if (target && typeof target.length === 'number' && !target.nodeType) return [].slice.call(target);
    return target ? [target] : [];
  }

  // $jc: CIDM Wrapped's own jQuery; here a small selector with the three element methods.
  var $jc = window.$jc;
  if (typeof $jc !== 'function') {
    $jc = function (target) {
      var elements = elementsOf(target);
      var set = { length: elements.length, get: function (i) { return i === undefined ? elements.slice() : elements[i]; } };
      elements.forEach(function (el, i) { set[i] = el; });
      return decorate(set, elements);
    };
  }
  $jc.qgcidm = qgcidm;
  window.$jc = $jc;

  // With jQuery on the page, $('#id').onLogin(fn).onLogout(fn) and .avatar() as the guide writes them.
  function extendJQuery() {
    var jq = window.jQuery;
    if (!jq || !jq.fn || jq.fn.onLogin) return;
    ['onLogin', 'onLogout', 'avatar'].forEach(function (method) {
      jq.fn[method] = function (fn) {
        decorate({}, this.toArray())[method](fn);
        return this;
      };
    });
    jq.qgcidm = qgcidm;
  }
  extendJQuery();
  // jQuery loaded after this script: extend it once the document is parsed.
  document.addEventListener('DOMContentLoaded', extendJQuery);
  // Load colorid.js now: most pages call initialise() soon after.
  load().catch(function (e) { console.error('qgcidm: could not load colorid.js:', e.message); });
})();
