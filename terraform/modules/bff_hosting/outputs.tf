output "origin_domain" {
  description = "Host name of the BFF's load balancer (CloudFront's origin for /bff/* and /api/*)."
  value       = var.host
}

output "origin_verify_header" {
  description = "Header CloudFront must add for the ALB to serve a request."
  value       = var.origin_verify_header
}

output "origin_verify_value" {
  description = "Secret value of origin_verify_header."
  value       = random_password.origin_verify.result
  sensitive   = true
}

output "ecr_repository_url" {
  description = "Where CI pushes the image."
  value       = aws_ecr_repository.bff.repository_url
}

output "ecr_repository_arn" {
  description = "ARN of the image repository."
  value       = aws_ecr_repository.bff.arn
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.bff.name
}

output "service_arn" {
  description = "ECS service ARN (the one service CI may update)."
  value       = aws_ecs_service.bff.id
}

output "client_secret_arn" {
  description = "Secrets Manager secret to put the OIDC client secret in."
  value       = aws_secretsmanager_secret.client_secret.arn
}

output "cookie_keys_arn" {
  description = "Secrets Manager secret to put the cookie key ring in."
  value       = aws_secretsmanager_secret.cookie_keys.arn
}

output "log_group" {
  description = "The BFF's CloudWatch log group."
  value       = aws_cloudwatch_log_group.bff.name
}

output "task_definition_family" {
  description = "The BFF's task definition family (CI may roll the service out only to its revisions)."
  value       = aws_ecs_task_definition.bff.family
}

output "vpc_id" {
  description = "The BFF's VPC (the session cache lives in it)."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "The private subnets of the tasks, one per zone."
  value       = [for s in aws_subnet.private : s.id]
}

output "task_security_group_id" {
  description = "Security group of the BFF tasks (the session cache admits it only)."
  value       = aws_security_group.tasks.id
}

output "kms_key_arn" {
  description = "The module's KMS key (logs, secrets, images, exec sessions; the session cache)."
  value       = aws_kms_key.bff.arn
}

output "alb_arn_suffix" {
  description = "The load balancer's ARN suffix (CloudWatch's LoadBalancer dimension)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "The target group's ARN suffix (CloudWatch's TargetGroup dimension)."
  value       = aws_lb_target_group.bff.arn_suffix
}

output "metrics_log_group" {
  description = "The log group the metrics sidecar writes EMF to (null without metrics_sidecar)."
  value       = one(aws_cloudwatch_log_group.metrics[*].name)
}

output "metrics_namespace" {
  description = "The CloudWatch namespace of the metrics the sidecar ships (null without metrics_sidecar)."
  value       = var.metrics_sidecar ? var.metrics_namespace : null
}
