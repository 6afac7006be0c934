output "bucket" {
  description = "Name of the SPA bucket."
  value       = aws_s3_bucket.spa.bucket
}

output "bucket_arn" {
  description = "ARN of the SPA bucket."
  value       = aws_s3_bucket.spa.arn
}

output "kms_key_arn" {
  description = "KMS key that encrypts the SPA bucket (uploads need GenerateDataKey on it)."
  value       = aws_kms_key.spa.arn
}

output "distribution_ids" {
  description = "subdomain => CloudFront distribution id."
  value       = { for k, d in aws_cloudfront_distribution.client : k => d.id }
}

output "distribution_arns" {
  description = "subdomain => CloudFront distribution ARN."
  value       = { for k, d in aws_cloudfront_distribution.client : k => d.arn }
}

output "urls" {
  description = "subdomain => the SPA's URL."
  value       = { for k, h in var.hosts : k => "https://${h}/" }
}

output "content_security_policy" {
  description = "The CSP the SPA is served with."
  value       = local.content_security_policy
}
