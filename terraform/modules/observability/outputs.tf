output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify (null when the module made none)."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "alarm_names" {
  description = "Every alarm's name."
  value = [
    aws_cloudwatch_metric_alarm.alb_5xx_rate.alarm_name,
    aws_cloudwatch_metric_alarm.target_5xx_rate.alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_targets.alarm_name,
    aws_cloudwatch_metric_alarm.p99_response_time.alarm_name,
    aws_cloudwatch_metric_alarm.cpu.alarm_name,
    aws_cloudwatch_metric_alarm.memory.alarm_name,
    aws_cloudwatch_metric_alarm.login_failures.alarm_name,
  ]
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
