provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# CloudFront accepts certificates only from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}
