//! colorid: stand up, publish to and tear down a small serverless web application on AWS.

pub mod publish;
