# Server-side sessions (session_store = "redis"): an ElastiCache replication
# group (Valkey or Redis OSS) in the BFF's private subnets, reachable on 6379
# from the BFF tasks only, TLS and an AUTH token required, encrypted at rest
# with the BFF's key; and the Secrets Manager secret that hands the task its
# rediss:// URL (TH_REDIS__URL). The root calls this module only for "redis".

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

locals {
  port           = 6379
  engine_version = coalesce(var.engine_version, var.engine == "valkey" ? "8.0" : "7.1")
}

# ---------------------------------------------------------------- network

resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name}-sessions"
  description = "BFF session cache: the BFF's private subnets"
  subnet_ids  = var.subnet_ids
}

# No CIDR anywhere: the tasks' security group is the only way in, and the
# nodes open no connection (no egress rule).
resource "aws_security_group" "cache" {
  name        = "${var.name}-sessions"
  description = "BFF session cache: TCP 6379 from the BFF tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "cache_from_tasks" {
  security_group_id            = aws_security_group.cache.id
  description                  = "From the BFF tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.client_security_group_id
}

# The tasks may leave on bff_egress_tcp_ports only; this opens 6379 to the
# cache, and to nothing else.
resource "aws_vpc_security_group_egress_rule" "tasks_to_cache" {
  security_group_id            = var.client_security_group_id
  description                  = "To the session cache"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = aws_security_group.cache.id
}

# ---------------------------------------------------------------- cache

# Letters and digits only: the token goes into a URL (rediss://:<token>@…)
# unescaped, and ElastiCache refuses some punctuation (@, ", /) anyway.
resource "random_password" "auth_token" {
  length  = 64
  special = false
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = "${var.name}-sessions"
  description          = "BFF sessions (${var.name})"
  engine               = var.engine
  engine_version       = local.engine_version
  node_type            = var.node_type
  port                 = local.port

  # One shard, a primary and replicas spread over the zones; a replica takes
  # over when the primary or its zone fails.
  num_cache_clusters         = var.num_cache_clusters
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.cache.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"

  # ROTATE: after a new token (terraform apply -replace on the password),
  # the old one keeps working, so running tasks stay connected until the
  # next deployment reads the new URL.
  auth_token                 = random_password.auth_token.result
  auth_token_update_strategy = "ROTATE"

  auto_minor_version_upgrade = true
  maintenance_window         = "sun:04:00-sun:05:00"
  snapshot_window            = "02:00-03:00"
  snapshot_retention_limit   = var.snapshot_retention_days
}

# ---------------------------------------------------------------- secret

# Unlike the client secret and the cookie keys, Terraform knows this value
# (it made the token), so it writes it: the URL and the token are in the
# state, as the token already is through the replication group.
resource "aws_secretsmanager_secret" "url" {
  #checkov:skip=CKV2_AWS_57:The URL holds the cache's AUTH token, which only Terraform changes (-replace the random_password; ROTATE keeps the old token valid until the tasks are redeployed); a rotation Lambda would change the secret without the cache.
  name                    = "${var.name}/bff/redis-url"
  description             = "Session cache URL of the BFF (TH_REDIS__URL): rediss://:<auth token>@<primary endpoint>:6379"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "url" {
  secret_id     = aws_secretsmanager_secret.url.id
  secret_string = "rediss://:${random_password.auth_token.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:${local.port}"
}
