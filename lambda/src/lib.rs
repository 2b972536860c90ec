//! The colorid identity function.
