"""SPA hosting: private bucket, CloudFront with OAC, the cross-origin
isolation headers a threaded WASM app needs, a CSP that lets it compile,
SPA routing and one distribution per wasm_clients entry."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import TERRAFORM, block


def headers_policy(spa):
    return spa.res("aws_cloudfront_response_headers_policy", "spa")


def custom_headers(spa) -> dict:
    items = block(headers_policy(spa), "custom_headers_config")["items"]
    return {i["header"]: i for i in items}


def csp_directives(spa) -> dict:
    expr = spa.locals["content_security_policy"]
    parts = re.findall(r'\\?"([^"\\]+)\\?"', expr)
    directives = {}
    for part in parts:
        if part == "; ":
            continue
        name, _, value = part.partition(" ")
        directives[name] = value.split()
    return directives


def test_coep_is_require_corp(spa):
    h = custom_headers(spa)["Cross-Origin-Embedder-Policy"]
    assert h["value"] == "require-corp"
    assert h["override"] is True


def test_coop_is_same_origin(spa):
    h = custom_headers(spa)["Cross-Origin-Opener-Policy"]
    assert h["value"] == "same-origin"
    assert h["override"] is True


def test_hsts_is_at_least_a_year_with_subdomains(spa):
    sec = block(headers_policy(spa), "security_headers_config")
    hsts = block(sec, "strict_transport_security")
    assert hsts["include_subdomains"] is True
    assert hsts["override"] is True
    assert hsts["access_control_max_age_sec"] == "${var.hsts_max_age_seconds}"
    assert spa.variables["hsts_max_age_seconds"]["default"] >= 31536000


def test_nosniff_is_sent(spa):
    sec = block(headers_policy(spa), "security_headers_config")
    assert block(sec, "content_type_options")["override"] is True


def test_csp_lets_wasm_compile_but_not_eval_or_inline(spa):
    d = csp_directives(spa)
    assert "'wasm-unsafe-eval'" in d["script-src"]
    assert "'self'" in d["script-src"]
    for directive in d.values():
        assert "'unsafe-eval'" not in directive
        assert "'unsafe-inline'" not in directive
    assert d["object-src"] == ["'none'"]
    assert d["frame-ancestors"] == ["'none'"]


def test_csp_connects_only_to_self(spa):
    # The BFF is on the SPA's own origin (/bff/*, /api/*), so 'self' covers it.
    assert csp_directives(spa)["connect-src"] == ["'self'"]


def test_csp_is_the_policy_that_is_sent(spa):
    sec = block(headers_policy(spa), "security_headers_config")
    csp = block(sec, "content_security_policy")
    assert csp["content_security_policy"] == "${local.content_security_policy}"
    assert csp["override"] is True


def test_every_distribution_sends_the_headers_over_tls12(spa):
    dist = spa.res("aws_cloudfront_distribution", "client")
    behavior = block(dist, "default_cache_behavior")
    assert behavior["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.spa.id}"
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    cert = block(dist, "viewer_certificate")
    assert cert["minimum_protocol_version"] == "TLSv1.2_2021"
    assert cert["ssl_support_method"] == "sni-only"
    assert cert["acm_certificate_arn"] == "${var.certificate_arn}"


def origins(spa) -> dict:
    return {o["origin_id"]: o for o in spa.res("aws_cloudfront_distribution", "client")["origin"]}


def test_one_distribution_per_wasm_client_reading_its_folder(spa):
    dist = spa.res("aws_cloudfront_distribution", "client")
    assert dist["for_each"] == "${var.wasm_clients}"
    assert dist["aliases"] == ["${var.hosts[each.key]}"]
    origin = origins(spa)["spa-s3"]
    assert origin["origin_path"] == "/${each.value}"
    assert block(dist, "default_cache_behavior")["target_origin_id"] == "spa-s3"
    assert origin["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.spa.id}"


def test_origin_access_control_signs_every_request(spa):
    oac = spa.res("aws_cloudfront_origin_access_control", "spa")
    assert oac["signing_behavior"] == "always"
    assert oac["signing_protocol"] == "sigv4"
    assert oac["origin_access_control_origin_type"] == "s3"


def test_only_these_distributions_may_read_the_bucket(spa):
    doc = spa.data[("aws_iam_policy_document", "bucket")]
    allow = [s for s in doc["statement"] if s.get("effect", "Allow") == "Allow"]
    assert len(allow) == 1
    (stmt,) = allow
    assert stmt["actions"] == ["s3:GetObject"]
    assert block(stmt, "principals")["identifiers"] == ["cloudfront.amazonaws.com"]
    cond = block(stmt, "condition")
    assert cond["variable"] == "AWS:SourceArn"
    assert "aws_cloudfront_distribution.client" in cond["values"]


def test_access_logs_are_written(spa):
    dist = spa.res("aws_cloudfront_distribution", "client")
    assert block(dist, "logging_config")["bucket"] == "${var.log_bucket_domain_name}"
    assert spa.res("aws_s3_bucket_logging", "spa")["target_bucket"] == "${var.log_bucket}"


def test_routing_function_runs_on_viewer_request(spa):
    dist = spa.res("aws_cloudfront_distribution", "client")
    assoc = block(block(dist, "default_cache_behavior"), "function_association")
    assert assoc["event_type"] == "viewer-request"
    assert assoc["function_arn"] == "${aws_cloudfront_function.spa_routing.arn}"
    assert spa.res("aws_cloudfront_function", "spa_routing")["runtime"] == "cloudfront-js-2.0"


@pytest.mark.parametrize(
    "uri, served",
    [
        ("/", "/index.html"),
        ("/profile", "/index.html"),
        ("/orders/42", "/index.html"),
        ("/orders/42/", "/index.html"),
        ("/index.html", "/index.html"),
        ("/spa-3f2a9c1d_bg.wasm", "/spa-3f2a9c1d_bg.wasm"),
        ("/assets/app-1a2b.css", "/assets/app-1a2b.css"),
        ("/robots.txt", "/robots.txt"),
    ],
)
def test_routing_function_serves_index_for_app_routes_only(uri, served):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required to run the CloudFront function (scripts/setup.d/20-node.sh installs it)")
    source = (TERRAFORM / "modules" / "spa_hosting" / "spa_routing.js").read_text()
    script = source + f"\nprocess.stdout.write(JSON.stringify(handler({{request: {{uri: {json.dumps(uri)}}}}})));"
    out = subprocess.run([node, "-e", script], check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["uri"] == served


def test_cache_policy_follows_object_cache_control(spa):
    policy = spa.res("aws_cloudfront_cache_policy", "spa")
    assert policy["min_ttl"] == 0  # lets index.html's no-cache mean no-cache
    assert policy["max_ttl"] >= 31536000  # lets hashed assets stay a year


def bff_behavior(spa) -> dict:
    dist = spa.res("aws_cloudfront_distribution", "client")
    dyn = block(dist, "dynamic")["ordered_cache_behavior"]
    assert dyn["for_each"] == "${var.bff_path_patterns}"
    return block(dyn, "content")


def test_bff_and_api_paths_are_served_on_the_spas_own_origin(spa):
    assert spa.variables["bff_path_patterns"]["default"] == ["/bff/*", "/api/*"]
    behavior = bff_behavior(spa)
    assert behavior["path_pattern"] == "${ordered_cache_behavior.value}"
    assert behavior["target_origin_id"] == "bff"
    assert behavior["viewer_protocol_policy"] == "https-only"
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(behavior["allowed_methods"])


def test_bff_paths_are_never_cached_and_get_cookies_and_headers(spa):
    behavior = bff_behavior(spa)
    assert behavior["cache_policy_id"] == "${data.aws_cloudfront_cache_policy.disabled.id}"
    assert spa.data[("aws_cloudfront_cache_policy", "disabled")]["name"] == "Managed-CachingDisabled"
    assert behavior["origin_request_policy_id"] == "${data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id}"
    policy = spa.data[("aws_cloudfront_origin_request_policy", "all_viewer_except_host")]
    assert policy["name"] == "Managed-AllViewerExceptHostHeader"


def test_bff_paths_skip_the_spa_routing_function_and_name_the_app_host(spa):
    assoc = block(bff_behavior(spa), "function_association")
    assert assoc["event_type"] == "viewer-request"
    assert assoc["function_arn"] == "${aws_cloudfront_function.bff_forwarded_host.arn}"
    assert spa.res("aws_cloudfront_function", "bff_forwarded_host")["runtime"] == "cloudfront-js-2.0"


def run_forwarded_host(headers: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required to run the CloudFront function (scripts/setup.d/20-node.sh installs it)")
    source = (TERRAFORM / "modules" / "spa_hosting" / "bff_forwarded_host.js").read_text()
    event = {"request": {"uri": "/bff/session", "headers": headers}}
    script = source + f"\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    out = subprocess.run([node, "-e", script], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["headers"]


def test_the_bff_gets_the_viewers_host_and_never_the_clients_forwarded_host():
    headers = run_forwarded_host(
        {"host": {"value": "app.example.com"}, "x-forwarded-host": {"value": "admin.example.com"}}
    )
    assert headers["x-forwarded-host"] == {"value": "app.example.com"}
    assert "x-forwarded-host" not in run_forwarded_host({"x-forwarded-host": {"value": "admin.example.com"}})


def test_bff_origin_is_tls_only_and_carries_the_verify_header(spa):
    origin = origins(spa)["bff"]
    assert origin["domain_name"] == "${var.bff_origin_domain}"
    cfg = block(origin, "custom_origin_config")
    assert cfg["origin_protocol_policy"] == "https-only"
    assert cfg["origin_ssl_protocols"] == ["TLSv1.2"]
    header = block(origin, "custom_header")
    assert header == {"name": "${var.origin_verify_header}", "value": "${var.origin_verify_value}"}
    assert spa.variables["origin_verify_value"]["sensitive"] is True


def test_no_error_page_rewrites_the_bffs_errors(spa):
    # A custom_error_response is distribution-wide: it would replace the
    # BFF's JSON 401/403 on /bff/* with index.html.
    assert "custom_error_response" not in spa.res("aws_cloudfront_distribution", "client")
