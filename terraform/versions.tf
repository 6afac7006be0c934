terraform {
  # 1.11: the S3 backend's native lock file (`use_lockfile` in envs/*.tfbackend).
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.8"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: bucket, key and region come from
  # `terraform init -backend-config=envs/<env>.s3.tfbackend` (docs/deploy.md).
  backend "s3" {}
}
