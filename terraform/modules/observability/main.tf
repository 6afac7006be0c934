# CloudWatch alarms and a dashboard for the BFF: the load balancer's and the
# targets' 5xx rates, unhealthy targets, the p99 response time, the
# service's CPU and memory, and the share of failed logins (from metric
# filters on the BFF's JSON logs: its "login failed" and "login completed"
# lines). Every alarm notifies the optional SNS topic going into and out of
# alarm. docs/deploy.md says what each means and what to do.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region  = data.aws_region.current.region
  actions = compact(concat(aws_sns_topic.alarms[*].arn, [var.alarm_topic_arn]))
  alb     = { LoadBalancer = var.alb_arn_suffix }
  targets = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  service = { ClusterName = var.cluster_name, ServiceName = var.service_name }
}

# --- The login metrics, from the BFF's JSON log lines -----------------------

resource "aws_cloudwatch_log_metric_filter" "login_failed" {
  name           = "${var.name}-login-failed"
  log_group_name = var.log_group_name
  pattern        = "{ $.fields.message = \"login failed\" }"

  metric_transformation {
    name          = "LoginFailures"
    namespace     = var.metric_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "login_completed" {
  name           = "${var.name}-login-completed"
  log_group_name = var.log_group_name
  pattern        = "{ $.fields.message = \"login completed\" }"

  metric_transformation {
    name          = "LoginsCompleted"
    namespace     = var.metric_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

# --- Where the alarms go ---------------------------------------------------

resource "aws_sns_topic" "alarms" {
  count             = var.create_alarm_topic ? 1 : 0
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms[0].arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = var.create_alarm_topic ? toset(var.alarm_emails) : toset([])
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# CloudWatch cannot publish to a topic encrypted with AWS's own SNS key:
# the topic gets a key whose policy lets CloudWatch use it.
resource "aws_kms_key" "alarms" {
  count                   = var.create_alarm_topic ? 1 : 0
  description             = "${var.name} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.alarms_key.json
}

data "aws_iam_policy_document" "alarms_key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; the root statement delegates to IAM like AWS's default key policy.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; CloudWatch is held to this account's alarms by a condition.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only (it cannot name other resources).
  statement {
    sid       = "AccountAdministersAndGrantsThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  count  = var.create_alarm_topic ? 1 : 0
  arn    = aws_sns_topic.alarms[0].arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = ["arn:${data.aws_partition.current.partition}:sns:${local.region}:${data.aws_caller_identity.current.account_id}:${var.name}-alarms"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# --- The alarms ------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate" {
  alarm_name          = "${var.name}-alb-5xx-rate"
  alarm_description   = "The load balancer itself answered 5xx (no healthy target, a target that reset or timed out) to more than ${var.alb_5xx_percent}% of requests. docs/deploy.md#alarms-and-the-dashboard"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alb_5xx_percent
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    label       = "ALB 5xx (%)"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "target_5xx_rate" {
  alarm_name          = "${var.name}-target-5xx-rate"
  alarm_description   = "The BFF answered 5xx (its provider, session store or an upstream failing) to more than ${var.target_5xx_percent}% of requests. docs/deploy.md#alarms-and-the-dashboard"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.target_5xx_percent
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    label       = "Target 5xx (%)"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.targets
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.targets
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${var.name}-unhealthy-targets"
  alarm_description   = "A BFF task fails its /healthz check for three minutes running. docs/deploy.md#alarms-and-the-dashboard"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.targets
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "p99_response_time" {
  alarm_name          = "${var.name}-p99-response-time"
  alarm_description   = "The BFF's p99 response time (API calls included) exceeds ${var.p99_seconds} s for 15 minutes. docs/deploy.md#alarms-and-the-dashboard"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.targets
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p99_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "${var.name}-cpu"
  alarm_description   = "The BFF service's average CPU exceeds ${var.cpu_percent}% for 15 minutes (autoscaling at its limit, or a runaway). docs/deploy.md#alarms-and-the-dashboard"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = local.service
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "memory" {
  alarm_name          = "${var.name}-memory"
  alarm_description   = "The BFF service's average memory exceeds ${var.memory_percent}% for 15 minutes. docs/deploy.md#alarms-and-the-dashboard"
  namespace           = "AWS/ECS"
  metric_name         = "MemoryUtilization"
  dimensions          = local.service
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.memory_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "login_failures" {
  alarm_name          = "${var.name}-login-failures"
  alarm_description   = "More than ${var.login_failure_percent}% of the logins that came back failed over 10 minutes (at least ${var.login_failure_min_count} failures). docs/deploy.md#alarms-and-the-dashboard"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.login_failure_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(failed >= ${var.login_failure_min_count}, 100 * failed / (failed + completed), 0)"
    label       = "Failed logins (%)"
    return_data = true
  }
  metric_query {
    id = "failed"
    metric {
      namespace   = var.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.login_failed.metric_transformation[0].name
      period      = 600
      stat        = "Sum"
    }
  }
  metric_query {
    id = "completed"
    metric {
      namespace   = var.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.login_completed.metric_transformation[0].name
      period      = 600
      stat        = "Sum"
    }
  }
}

# --- The dashboard ---------------------------------------------------------

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-bff"
  dashboard_body = jsonencode({
    widgets = concat([
      {
        type = "alarm", x = 0, y = 0, width = 24, height = 3
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.alb_5xx_rate.arn,
            aws_cloudwatch_metric_alarm.target_5xx_rate.arn,
            aws_cloudwatch_metric_alarm.unhealthy_targets.arn,
            aws_cloudwatch_metric_alarm.p99_response_time.arn,
            aws_cloudwatch_metric_alarm.cpu.arn,
            aws_cloudwatch_metric_alarm.memory.arn,
            aws_cloudwatch_metric_alarm.login_failures.arn,
          ]
        }
      },
      {
        type = "metric", x = 0, y = 3, width = 12, height = 6
        properties = {
          title  = "Requests and 5xx"
          region = local.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
            [".", "HTTPCode_ELB_5XX_Count", ".", "."],
            [".", "HTTPCode_Target_5XX_Count", ".", ".", "TargetGroup", var.target_group_arn_suffix],
            [".", "HTTPCode_Target_4XX_Count", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 3, width = 12, height = 6
        properties = {
          title  = "Target response time"
          region = local.region
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p50" }],
            ["...", { stat = "p99" }],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.p99_seconds }] }
        }
      },
      {
        type = "metric", x = 0, y = 9, width = 8, height = 6
        properties = {
          title  = "Healthy and unhealthy targets"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
            [".", "UnHealthyHostCount", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 8, y = 9, width = 8, height = 6
        properties = {
          title  = "Service CPU and memory (%)"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
            [".", "MemoryUtilization", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 16, y = 9, width = 8, height = 6
        properties = {
          title  = "Logins"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            [var.metric_namespace, "LoginsCompleted"],
            [".", "LoginFailures"],
          ]
        }
      },
      {
        type = "log", x = 0, y = 15, width = 24, height = 6
        properties = {
          title  = "Failed logins by reason"
          region = local.region
          view   = "table"
          query  = "SOURCE '${var.log_group_name}' | filter fields.message = \"login failed\" | stats count() as failures by fields.reason | sort failures desc"
        }
      },
    ], local.prometheus_widgets)
  })
}

# With the metrics sidecar (prometheus_namespace set): a row of the BFF's own
# metrics. Each search names its metric's exact dimension set, which only
# that metric has, and a word of its name, so it finds it whether or not
# the collector kept the counter's _total suffix.
locals {
  prometheus_searches = {
    "Cookies opened by key id"          = "key_id} cookie"
    "Refreshes by outcome"              = "outcome} refresh"
    "Upstream errors by route and kind" = "route,kind} upstream"
  }
  prometheus_widgets = [
    for i, title in (var.prometheus_namespace == null ? [] : keys(local.prometheus_searches)) : {
      type = "metric", x = 8 * i, y = 21, width = 8, height = 6
      properties = {
        title  = title
        region = local.region
        period = 300
        metrics = [[{
          expression = "SEARCH('{${var.prometheus_namespace},${local.prometheus_searches[title]}', 'Sum', 300)"
          id         = "m${i}"
        }]]
      }
    }
  ]
}
