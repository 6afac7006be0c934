terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
}

# One key for this module's data at rest: log groups (app, exec, flow, WAF),
# the two secrets, the ECR repository and ECS Exec sessions; and, with
# session_store = "redis", the session cache and its URL secret
# (modules/session_cache). ElastiCache and Secrets Manager use the key
# through grants made for the principal that creates the resource, which the
# root statement lets IAM allow: unlike CloudWatch Logs they need no
# statement of their own.
resource "aws_kms_key" "bff" {
  description             = "${var.name} BFF: logs, secrets, images, exec sessions"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "bff" {
  name          = "alias/${var.name}-bff"
  target_key_id = aws_kms_key.bff.key_id
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
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncrypts"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}
