// CloudFront Function (viewer request) on /bff/* and /api/*: names the app
// host for the BFF. The origin request policy forwards every viewer header
// except Host (the ALB's certificate is for its own name), so the host the
// browser called travels in X-Forwarded-Host, set here from the viewer's
// Host and overwriting whatever the client sent. The BFF reads it
// (TH_FORWARDED__HOST_HEADER) to decide which app a request belongs to.
function handler(event) {
  var request = event.request;
  var host = request.headers.host;
  if (host) {
    request.headers['x-forwarded-host'] = { value: host.value };
  } else {
    delete request.headers['x-forwarded-host'];
  }
  return request;
}
