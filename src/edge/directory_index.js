// colorid's viewer-request CloudFront Function (runtime cloudfront-js-2.0).
// A request for a directory (a URI ending in "/") is served the directory's
// index.html, since CloudFront's default root object applies to "/" only.
// colorid dev's local edge applies the same rule (src/edge/directory_index.rs);
// tests/it/edge_function.rs runs this file with node on the cases in
// src/edge/directory_index_cases.json and compares.
function handler(event) {
  var request = event.request;
  if (request.uri.endsWith('/')) {
    request.uri += 'index.html';
  }
  return request;
}
