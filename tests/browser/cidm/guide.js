// A page script written against the CIDM Wrapped guide, every call as the guide shows it
// (the guide's document-ready snippet, externalised as the guide suggests).
$(document).ready(function () {
  $jc.qgcidm.initialise({
    home: 'https://cidm.example.invalid',
    domain: 'tenant.example.invalid',
    clientID: 'guide-client',
    webtaskHome: 'webtask.example.invalid',
    wrapped: true,
    level: 'Level_1',
    verbose: true,
    avatar: 'qgcidm-avatar',
    attributes: { FirstName: true, FamilyName: true, Email: true, QID: true, DateOfBirth: true, AuthenticationMethod: true },
  });
  $jc('#qgcidm-avatar').avatar();
  $jc.qgcidm.enable();

  $('#your-element-id') //whatever id on the page you are wanting to modify
    .onLogin(function (me) {
      $(me).text('look, I\'ve signed in');
    })
    .onLogout(function (me) {
      console.log('look, I\'ve signed out');
      $(me).text('signed out');
    });
  $jc('#plain-element')
    .onLogin(function (me) { me.textContent = 'plain: signed in'; })
    .onLogout(function (me) { me.textContent = 'plain: signed out'; });

  $jc.qgcidm._onLogin.add(function () {
    console.log('You have now accessed the QID at the optimal time: ' + $jc.qgcidm.searchAttribute('QID'));
    $('#attribute').text($jc.qgcidm.searchAttribute('Email'));
    $jc.qgcidm.getStorage('access_token', function (value) {
      $('#jwt').text(value ? 'JWT present' : 'no JWT');
    });
  });
  $jc.qgcidm._onLogout.add(function () {
    console.log('You are now in control of the runtime after logging out');
  });
});
