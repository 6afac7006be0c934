output "url_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the rediss:// URL (auth token inside). Taken from the secret's version, so whatever names it waits until the URL is in it."
  value       = aws_secretsmanager_secret_version.url.arn
}

output "security_group_id" {
  description = "Security group of the cache nodes."
  value       = aws_security_group.cache.id
}

output "replication_group_id" {
  description = "The ElastiCache replication group."
  value       = aws_elasticache_replication_group.this.id
}
