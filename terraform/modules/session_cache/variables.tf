variable "name" {
  description = "Prefix of resource names, e.g. token-handler-dev (the replication group is <name>-sessions, at most 40 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name)) && !strcontains(var.name, "--") && !endswith(var.name, "-")
    error_message = "name: a lowercase letter, then letters, digits and single dashes, at most 31 characters (ElastiCache ids are at most 40, and -sessions takes 9)."
  }
}

variable "vpc_id" {
  description = "The BFF's VPC."
  type        = string
}

variable "subnet_ids" {
  description = "The BFF's private subnets (one per zone); the cache nodes are spread over them."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids: at least two subnets, in different zones, for Multi-AZ."
  }
}

variable "client_security_group_id" {
  description = "Security group of the BFF tasks: the only source the cache admits (TCP 6379)."
  type        = string
}

variable "kms_key_arn" {
  description = "The BFF's KMS key: encrypts the cache at rest (and its snapshots) and the URL secret."
  type        = string
}

variable "engine" {
  description = "valkey (cheaper, Redis OSS compatible) or redis."
  type        = string
  default     = "valkey"

  validation {
    condition     = contains(["valkey", "redis"], var.engine)
    error_message = "engine must be \"valkey\" or \"redis\"."
  }
}

variable "engine_version" {
  description = "Major.minor engine version; null picks 8.0 for valkey, 7.1 for redis."
  type        = string
  default     = null
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.micro"

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type, e.g. cache.t4g.micro."
  }
}

variable "num_cache_clusters" {
  description = "Nodes: one primary plus replicas (at least 2, for automatic failover across zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 2 && var.num_cache_clusters <= 6 && floor(var.num_cache_clusters) == var.num_cache_clusters
    error_message = "num_cache_clusters must be a whole number from 2 (primary + 1 replica) to 6."
  }
}

variable "snapshot_retention_days" {
  description = "Days a daily snapshot is kept (0 turns snapshots off; sessions last hours, so 1 is plenty)."
  type        = number
  default     = 1

  validation {
    condition     = var.snapshot_retention_days >= 0 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be 0 to 35."
  }
}
