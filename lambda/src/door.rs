//! What sets one API apart from the other in front of the same pipeline:
//! how it reads an attributes request, which names it takes, how it words a
//! 400, and what it calls the subject of a verified set. `/api/attributes`
//! and `/api/v1` each have one [`Door`]; everything else they share.

use lambda_http::{Body, Request, Response};

use crate::attributes::ValidationFailure;
use crate::exchange::Unreadable;
use crate::ready::Ready;
use crate::request::AttributesRequest;
use crate::validation::NameRule;

/// One API's reading and wording.
pub(crate) struct Door {
    /// Reads an attributes request from the GET query or the POST body.
    pub read: fn(&Request) -> Result<AttributesRequest, Unreadable>,
    /// Which attribute names the API takes.
    pub names: NameRule,
    /// The API's 400: a message and the failures.
    pub invalid: fn(&Ready, &str, &[ValidationFailure]) -> Response<Body>,
    /// The field a verified set's subject is answered in.
    pub subject_field: &'static str,
}

impl Door {
    /// The API's 400 for a request it could not read.
    pub(crate) fn unreadable(&self, ready: &Ready, u: &Unreadable) -> Response<Body> {
        (self.invalid)(ready, u.message, &u.failures)
    }
}
