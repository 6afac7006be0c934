// CloudFront Function (viewer request): app routes get /index.html.
// A path whose last segment has no dot (/, /profile, /orders/42) is a route
// of the single-page app; anything with an extension is a real file.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
