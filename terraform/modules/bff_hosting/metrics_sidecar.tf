# Optional (metrics_sidecar, off by default): an AWS Distro for
# OpenTelemetry collector in the BFF's task that scrapes the BFF's
# Prometheus listener on loopback (the task's containers share one network
# namespace, so nothing outside the task can reach it) and writes the
# metrics to CloudWatch Logs as EMF, which CloudWatch turns into metrics.
# docs/deploy.md#prometheus-metrics-in-cloudwatch says what it costs.

locals {
  metrics_log_group = "/ecs/${var.name}/bff-metrics"

  # Every metric of contract/src/metrics.rs with its labels, which become
  # its CloudWatch dimensions (tests/deploy checks this list against the
  # contract). Label values are bounded there (route templates, key ids,
  # fixed reasons), so the number of CloudWatch metrics is too. Histograms
  # arrive as one metric (count, sum, min, max), not one per bucket.
  metrics_dimensions = {
    th_http_requests_total                = ["route", "method", "status"]
    th_http_request_duration_seconds      = ["route"]
    th_login_started_total                = []
    th_login_rate_limited_total           = []
    th_login_completed_total              = []
    th_login_failed_total                 = ["reason"]
    th_refresh_total                      = ["outcome"]
    th_logout_total                       = []
    th_backchannel_logout_total           = ["outcome"]
    th_cookie_opened_total                = ["key_id"]
    th_cookie_failures_total              = ["kind"]
    th_upstream_request_duration_seconds  = ["route"]
    th_upstream_responses_total           = ["route", "status"]
    th_upstream_errors_total              = ["route", "kind"]
    th_upstream_response_bytes_total      = ["route"]
    th_introspection_cache_total          = ["result"]
    th_introspection_duration_seconds     = []
    th_introspection_errors_total         = []
    th_provider_request_duration_seconds  = ["endpoint"]
    th_provider_errors_total              = ["endpoint", "kind"]
    th_session_store_duration_seconds     = ["operation"]
    th_session_store_errors_total         = ["operation"]
    th_deny_list_in_memory                = []
    th_deny_list_entries                  = []
    th_build_info                         = ["component", "version"]
  }

  # The collector's configuration, passed whole in AOT_CONFIG_CONTENT (the
  # ADOT image reads it from there instead of a file: the root filesystem
  # stays read-only and no SSM parameter is needed).
  metrics_sidecar_config = {
    extensions = {
      health_check = { endpoint = "127.0.0.1:13133" }
    }
    receivers = {
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "th-bff"
            scrape_interval = "${var.metrics_scrape_seconds}s"
            static_configs  = [{ targets = ["127.0.0.1:${var.metrics_port}"] }]
          }]
        }
      }
    }
    processors = {
      # The task id names each task's log stream ({TaskId} below); as a
      # resource attribute it is no dimension, so it adds no metrics.
      resourcedetection = { detectors = ["ecs"], timeout = "5s" }
    }
    exporters = {
      awsemf = {
        namespace       = var.metrics_namespace
        log_group_name  = local.metrics_log_group
        log_stream_name = "{TaskId}"
        region          = local.region
        # One metric per declared dimension set, not a roll-up of each label
        # on its own besides (which would triple the metrics billed).
        dimension_rollup_option = "NoDimensionRollup"
        # The Prometheus receiver may drop a counter's _total suffix.
        metric_declarations = [for name, labels in local.metrics_dimensions : {
          dimensions            = [labels]
          metric_name_selectors = ["^${trimsuffix(name, "_total")}(_total)?$"]
        }]
      }
    }
    service = {
      extensions = ["health_check"]
      pipelines = {
        metrics = {
          receivers  = ["prometheus"]
          processors = ["resourcedetection"]
          exporters  = ["awsemf"]
        }
      }
    }
  }

  # Locked down like the BFF's own container. It is not essential: a
  # collector that fails loses metrics, never the service.
  metrics_sidecar_containers = var.metrics_sidecar ? [{
    name                   = "adot-collector"
    image                  = var.metrics_sidecar_image
    essential              = false
    user                   = var.container_user
    readonlyRootFilesystem = true
    privileged             = false
    linuxParameters = {
      capabilities = { drop = ["ALL"] }
    }

    environment = [{ name = "AOT_CONFIG_CONTENT", value = yamlencode(local.metrics_sidecar_config) }]

    # The image's own probe of the health_check extension above.
    healthCheck = {
      command     = ["CMD", "/healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }

    # The collector's own log lines go beside the BFF's (the execution role
    # already writes there); the metrics go to their own group below.
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.bff.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "adot"
      }
    }
  }] : []
}

resource "aws_cloudwatch_log_group" "metrics" {
  #checkov:skip=CKV_AWS_338:Retention is set per environment (log_retention_days; 365 in the prod example, shorter in dev to save cost).
  count             = var.metrics_sidecar ? 1 : 0
  name              = local.metrics_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.bff.arn
}

# The task role gains only what the awsemf exporter calls: a stream per
# task and its events, in the one group above. The group exists, so no
# logs:CreateLogGroup; CloudWatch Logs itself encrypts with the key (the key
# policy's CloudWatchLogsEncrypts), so no kms:* either.
data "aws_iam_policy_document" "metrics_sidecar" {
  count = var.metrics_sidecar ? 1 : 0

  statement {
    sid       = "WriteEmfMetrics"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.metrics[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "metrics_sidecar" {
  count  = var.metrics_sidecar ? 1 : 0
  name   = "metrics-sidecar-write-emf"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.metrics_sidecar[0].json
}
