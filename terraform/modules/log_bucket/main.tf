# One bucket for access logs: CloudFront standard logs, the ALB's access logs
# and the SPA bucket's server access logs, each under its own prefix.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name" {
  description = "Bucket name."
  type        = string
}

variable "retention_days" {
  description = "Days an access log is kept."
  type        = number
  default     = 365
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

# Regions older than August 2022 deliver ALB logs as this per-region account.
data "aws_elb_service_account" "this" {}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are not replicated across regions; they expire after retention_days.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of new log objects.
  #checkov:skip=CKV_AWS_145:ALB access logs can be delivered only to SSE-S3 (AES256) buckets, not SSE-KMS.
  bucket = var.name
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# CloudFront standard logging writes with an ACL grant to its log-delivery
# account, so ACLs must stay enabled (BucketOwnerPreferred); the grant is not
# public, so the public access block above still holds.
resource "aws_s3_bucket_ownership_controls" "this" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logs are delivered through an ACL grant to the log-delivery account; with ACLs disabled no CloudFront log would arrive.
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
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

  # ALB access logs: the log-delivery service principal (newer regions) and
  # the region's ELB account (older regions).
  statement {
    sid       = "AlbAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "AlbAccessLogsLegacyRegions"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  # S3 server access logs of the SPA bucket.
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

output "bucket" {
  description = "Name of the log bucket."
  value       = aws_s3_bucket.this.bucket
  # Consumers (ALB access logs, S3 server access logs, CloudFront logs) check
  # the bucket's permissions when they are created: the name is handed out
  # only once the policy and the ownership controls are in place, or the
  # first apply races them and fails with Access Denied.
  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
  ]
}

output "bucket_domain_name" {
  description = "Domain name CloudFront logging takes."
  value       = aws_s3_bucket.this.bucket_domain_name
  # As `bucket`: only once the bucket accepts log deliveries.
  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
  ]
}

output "region" {
  description = "Region of the log bucket (the ALB must be in the same one)."
  value       = data.aws_region.current.region
}
