# SPA hosting: one private, encrypted, versioned bucket; one CloudFront
# distribution per wasm_clients entry (one alias each), reading its folder
# through origin access control; a response headers policy with COEP/COOP and
# a CSP that lets WebAssembly compile; unknown paths answered by index.html.
#
# The SPA calls the BFF on its own origin (/bff/*, /api/*): each distribution
# forwards those paths, uncached and with cookies, to the BFF's load balancer.
# So the token cookies are host-only (__Host-) cookies of the SPA's host,
# SameSite=Strict holds, and no CORS is involved.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

data "aws_caller_identity" "current" {}

locals {
  # 'wasm-unsafe-eval' lets WebAssembly.instantiateStreaming compile the app
  # without allowing JavaScript eval. Trunk's inline loader script is moved
  # into a hashed file by scripts/sync-spa.sh, so no 'unsafe-inline' is needed.
  content_security_policy = join("; ", [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "upgrade-insecure-requests",
  ])
}

# ---------------------------------------------------------------- bucket

resource "aws_kms_key" "spa" {
  description             = "${var.name} SPA bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "spa" {
  name          = "alias/${var.name}-spa"
  target_key_id = aws_kms_key.spa.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; the root statement delegates to IAM like AWS's default key policy.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; services are held to this account by conditions.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only (it cannot name other resources).
  statement {
    sid       = "AccountAdministersAndGrantsThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudFrontReadsObjects"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket" "spa" {
  #checkov:skip=CKV_AWS_144:The bucket holds build output that CI can re-sync from git at any time; cross-region replication buys nothing.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events; CloudFront reads the objects.
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "spa" {
  bucket                  = aws_s3_bucket.spa.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "spa" {
  bucket = aws_s3_bucket.spa.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "spa" {
  bucket = aws_s3_bucket.spa.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.spa.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "spa" {
  bucket = aws_s3_bucket.spa.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Old versions of deleted hashed assets are kept a while (a rollback can
# restore them) and then expire, so versioning does not grow without end.
resource "aws_s3_bucket_lifecycle_configuration" "spa" {
  bucket = aws_s3_bucket.spa.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_logging" "spa" {
  bucket        = aws_s3_bucket.spa.id
  target_bucket = var.log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "CloudFrontReadsThroughOac"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.spa.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [for d in aws_cloudfront_distribution.client : d.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.spa.arn, "${aws_s3_bucket.spa.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "spa" {
  bucket = aws_s3_bucket.spa.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.spa]
}

# ---------------------------------------------------------------- CloudFront

resource "aws_cloudfront_origin_access_control" "spa" {
  name                              = "${var.name}-spa"
  description                       = "CloudFront reads the private SPA bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

# Forwards cookies, query strings and every viewer header except Host (the
# ALB's certificate is for its own name).
data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

# Honour the Cache-Control each object carries (scripts/sync-spa.sh sets a
# year, immutable, on hashed assets and no-cache on index.html).
resource "aws_cloudfront_cache_policy" "spa" {
  name        = "${var.name}-spa"
  comment     = "Origin Cache-Control decides; no cookies, headers or query strings in the key"
  min_ttl     = 0
  default_ttl = 300
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "spa" {
  name    = "${var.name}-spa"
  comment = "Cross-origin isolation (COEP/COOP) and security headers for the SPA"

  custom_headers_config {
    items {
      header   = "Cross-Origin-Embedder-Policy"
      value    = "require-corp"
      override = true
    }
    items {
      header   = "Cross-Origin-Opener-Policy"
      value    = "same-origin"
      override = true
    }
    items {
      header   = "Cross-Origin-Resource-Policy"
      value    = "same-origin"
      override = true
    }
    items {
      header   = "Permissions-Policy"
      value    = "camera=(), microphone=(), geolocation=(), payment=()"
      override = true
    }
  }

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = var.hsts_max_age_seconds
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
  }
}

# SPA routing: a path whose last segment has no file extension is a route of
# the app, not a file, so it is answered with /index.html (status 200).
# Missing files (a stale hashed asset) still fail instead of getting HTML.
resource "aws_cloudfront_function" "spa_routing" {
  name    = "${var.name}-spa-routing"
  runtime = "cloudfront-js-2.0"
  comment = "Serve index.html for app routes"
  publish = true
  code    = file("${path.module}/spa_routing.js")
}

# The BFF's paths: the app host the browser called, in X-Forwarded-Host.
resource "aws_cloudfront_function" "bff_forwarded_host" {
  name    = "${var.name}-bff-forwarded-host"
  runtime = "cloudfront-js-2.0"
  comment = "X-Forwarded-Host from the viewer's Host, for the BFF"
  publish = true
  code    = file("${path.module}/bff_forwarded_host.js")
}

resource "aws_cloudfront_distribution" "client" {
  #checkov:skip=CKV_AWS_68:Static, public, immutable files with no dynamic surface; the BFF's ALB carries the WAF.
  #checkov:skip=CKV2_AWS_47:See CKV_AWS_68: no WAF on the static SPA, so no Log4j rule either; nothing here runs Java.
  #checkov:skip=CKV_AWS_310:One S3 origin; S3 is regional and highly available, and a second bucket would double every sync.
  #checkov:skip=CKV_AWS_374:The app is offered worldwide; restrict with geo_restriction if a market needs it.
  for_each = var.wasm_clients

  enabled             = true
  comment             = "${var.name} SPA ${each.key}"
  aliases             = [var.hosts[each.key]]
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  price_class         = var.price_class

  origin {
    origin_id                = "spa-s3"
    domain_name              = aws_s3_bucket.spa.bucket_regional_domain_name
    origin_path              = "/${each.value}"
    origin_access_control_id = aws_cloudfront_origin_access_control.spa.id
  }

  # The BFF, on this origin. CloudFront reaches it over TLS at its own host
  # name (the ALB's certificate) and adds the header the ALB requires.
  origin {
    origin_id   = "bff"
    domain_name = var.bff_origin_domain

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 30
      origin_keepalive_timeout = 5
    }

    custom_header {
      name  = var.origin_verify_header
      value = var.origin_verify_value
    }
  }

  # /bff/* and /api/*: never cached, every viewer header (cookies, Origin,
  # x-csrf) and query string forwarded, every method, no SPA routing.
  dynamic "ordered_cache_behavior" {
    for_each = var.bff_path_patterns
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = "bff"
      viewer_protocol_policy     = "https-only"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
      origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.spa.id

      function_association {
        event_type   = "viewer-request"
        function_arn = aws_cloudfront_function.bff_forwarded_host.arn
      }
    }
  }

  default_cache_behavior {
    target_origin_id           = "spa-s3"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.spa.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.spa.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.spa_routing.arn
    }
  }

  # No custom_error_response: it would apply to the BFF's paths too and turn
  # its JSON 401/403 answers into index.html. App routes are handled by the
  # routing function; a missing file stays S3's 403.

  logging_config {
    bucket          = var.log_bucket_domain_name
    prefix          = "cloudfront/${each.key}/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}

resource "aws_route53_record" "client" {
  for_each = {
    for pair in setproduct(keys(var.wasm_clients), ["A", "AAAA"]) : "${pair[0]}-${pair[1]}" => {
      client = pair[0]
      type   = pair[1]
    }
  }

  zone_id = var.zone_id
  name    = var.hosts[each.value.client]
  type    = each.value.type

  alias {
    name                   = aws_cloudfront_distribution.client[each.value.client].domain_name
    zone_id                = aws_cloudfront_distribution.client[each.value.client].hosted_zone_id
    evaluate_target_health = false
  }
}
