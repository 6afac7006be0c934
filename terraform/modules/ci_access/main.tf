# CI access: GitHub Actions assumes a role through OIDC federation (no stored
# keys). The trust names one repository and one branch; the permissions are
# exactly the deploy's: sync the SPA bucket, invalidate its distributions,
# push to the one ECR repository, update the one ECS service.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "github_repository" {
  description = "OWNER/NAME of the repository."
  type        = string
}

variable "github_branch" {
  description = "The one branch allowed to deploy."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false: look up the existing one)."
  type        = bool
  default     = true
}

variable "spa_bucket_arn" {
  description = "The SPA bucket."
  type        = string
}

variable "spa_kms_key_arn" {
  description = "Key encrypting the SPA bucket."
  type        = string
}

variable "distribution_arns" {
  description = "CloudFront distributions CI may invalidate."
  type        = list(string)
}

variable "ecr_repository_arn" {
  description = "The one ECR repository CI pushes to."
  type        = string
}

variable "ecs_service_arn" {
  description = "The one ECS service CI updates."
  type        = string
}

variable "ecs_task_definition_family" {
  description = "The BFF's task definition family: the only one CI may roll the service out to."
  type        = string
}

locals {
  oidc_host = "token.actions.githubusercontent.com"
  subject   = "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"
  oidc_arn  = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  url   = "https://${local.oidc_host}"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Exact match, not StringLike: only pushes to this branch of this
    # repository (not forks, tags, pull requests or other branches).
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [local.subject]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  description          = "GitHub Actions deploy from ${local.subject}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "SpaList"
    actions   = ["s3:ListBucket"]
    resources = [var.spa_bucket_arn]
  }
  statement {
    sid       = "SpaSync"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${var.spa_bucket_arn}/*"]
  }
  statement {
    sid       = "SpaEncrypt"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.spa_kms_key_arn]
  }
  statement {
    sid       = "Invalidate"
    actions   = ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]
    resources = var.distribution_arns
  }
  # GetAuthorizationToken has no resource-level scope; it only yields a
  # login, what that login may push is limited by EcrPush below.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }
  # DescribeServices is read-only; scripts/rollout-bff.sh polls the rollout
  # with it.
  statement {
    sid       = "EcsDescribe"
    actions   = ["ecs:DescribeServices"]
    resources = [var.ecs_service_arn]
  }
  # UpdateService on the one service, and only to a revision of the BFF's own
  # task definition family (the workflow sends none: --force-new-deployment
  # keeps the current one), never turning on ECS Exec. IAM has no condition
  # key for desiredCount or the deployment configuration: scaling to zero
  # cannot be denied here, and autoscaling does not undo it (no task, no CPU
  # metric); see docs/deploy.md. The workflow registers no task definition,
  # so there is no iam:PassRole.
  statement {
    sid       = "EcsRollOut"
    actions   = ["ecs:UpdateService"]
    resources = [var.ecs_service_arn]
    condition {
      test     = "ArnLikeIfExists"
      variable = "ecs:task-definition"
      values   = ["arn:aws:ecs:*:*:task-definition/${var.ecs_task_definition_family}:*"]
    }
    condition {
      test     = "BoolIfExists"
      variable = "ecs:enable-execute-command"
      values   = ["false"]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

output "role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (role-to-assume)."
  value       = aws_iam_role.deploy.arn
}

output "subject" {
  description = "The one OIDC subject the role trusts."
  value       = local.subject
}
