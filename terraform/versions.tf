terraform {
  required_version = ">= 1.6.0"

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
