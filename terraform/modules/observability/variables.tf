variable "name" {
  description = "Name prefix (project-environment)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "The BFF load balancer's ARN suffix (CloudWatch's LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "The BFF target group's ARN suffix (CloudWatch's TargetGroup dimension)."
  type        = string
}

variable "cluster_name" {
  description = "The ECS cluster of the BFF service."
  type        = string
}

variable "service_name" {
  description = "The BFF's ECS service."
  type        = string
}

variable "log_group_name" {
  description = "The BFF's log group (JSON lines; the login metric filters read it)."
  type        = string
}

variable "create_alarm_topic" {
  description = "Make an SNS topic (KMS-encrypted) that every alarm notifies, going into and out of alarm."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm by mail)."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arn" {
  description = "An existing SNS topic to notify instead of (or besides) the module's own; null for none."
  type        = string
  default     = null
}

variable "metric_namespace" {
  description = "Namespace of the metrics the log filters make."
  type        = string
  default     = "TokenHandler"
}

variable "alb_5xx_percent" {
  description = "Alarm when the load balancer's own 5xx answers exceed this share of requests (%), two 5-minute periods running."
  type        = number
  default     = 2
}

variable "target_5xx_percent" {
  description = "Alarm when the BFF's 5xx answers exceed this share of requests (%), two 5-minute periods running."
  type        = number
  default     = 5
}

variable "p99_seconds" {
  description = "Alarm when the targets' p99 response time exceeds this (s), three 5-minute periods running."
  type        = number
  default     = 2
}

variable "cpu_percent" {
  description = "Alarm when the service's average CPU exceeds this (%), three 5-minute periods running."
  type        = number
  default     = 85
}

variable "memory_percent" {
  description = "Alarm when the service's average memory exceeds this (%), three 5-minute periods running."
  type        = number
  default     = 85
}

variable "login_failure_percent" {
  description = "Alarm when this share (%) of the logins that came back failed, over 10 minutes (with at least login_failure_min_count failures)."
  type        = number
  default     = 30
}

variable "login_failure_min_count" {
  description = "Fewer failed logins than this in 10 minutes never alarm (a handful of cancelled logins is normal)."
  type        = number
  default     = 10
}

variable "prometheus_namespace" {
  description = "The CloudWatch namespace of the BFF's own metrics when the metrics sidecar ships them (bff_hosting's metrics_namespace); null for none. Adds a dashboard row: refreshes by outcome, cookies opened by key id, upstream errors."
  type        = string
  default     = null
}
