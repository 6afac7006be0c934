# The BFF on ECS Fargate: image in ECR, secrets in Secrets Manager, logs in
# CloudWatch, tasks in private subnets behind the ALB, CPU autoscaling and a
# rolling deployment that rolls itself back when new tasks do not get healthy.

# ---------------------------------------------------------------- image

# Every image is pushed twice: under its git sha (immutable, for audit and
# rollback) and under the environment's deploy tag, the one mutable tag, which
# the task definition names. CI then needs only ecs:UpdateService
# (--force-new-deployment); ECS resolves the tag to a digest per deployment.
resource "aws_ecr_repository" "bff" {
  #checkov:skip=CKV_AWS_51:Tags are immutable except the one deploy tag (IMMUTABLE_WITH_EXCLUSION); see the comment above.
  name                 = "${var.name}-bff"
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"

  image_tag_mutability_exclusion_filter {
    filter      = var.image_deploy_tag
    filter_type = "WILDCARD"
  }

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.bff.arn
  }
}

resource "aws_ecr_lifecycle_policy" "bff" {
  repository = aws_ecr_repository.bff.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest 50 images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 50
      }
      action = { type = "expire" }
    }]
  })
}

# ---------------------------------------------------------------- secrets

# Terraform creates the secrets, never their values (those would land in the
# state): docs/deploy.md sets them with `aws secretsmanager put-secret-value`.
resource "aws_secretsmanager_secret" "client_secret" {
  #checkov:skip=CKV2_AWS_57:The client secret is issued by the OpenID provider; it is rotated there and put here by hand (docs/deploy.md), not by a rotation Lambda.
  name                    = "${var.name}/bff/oidc-client-secret"
  description             = "OIDC client secret of the BFF (TH_OIDC__CLIENT_SECRET)"
  kms_key_id              = aws_kms_key.bff.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret" "cookie_keys" {
  #checkov:skip=CKV2_AWS_57:Cookie keys rotate through the key ring (add a new first key, keep the old to decrypt), a documented manual step; a rotation Lambda would drop the old key and log everyone out.
  name                    = "${var.name}/bff/cookie-keys"
  description             = "Cookie key ring of the BFF (TH_COOKIES__KEYS), e.g. [{id=\"k1\",key=\"<base64 32 bytes>\"}]"
  kms_key_id              = aws_kms_key.bff.arn
  recovery_window_in_days = 7
}

# ---------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "bff" {
  #checkov:skip=CKV_AWS_338:Retention is set per environment (log_retention_days; 365 in the prod example, shorter in dev to save cost).
  name              = "/ecs/${var.name}/bff"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.bff.arn
}

resource "aws_cloudwatch_log_group" "exec" {
  #checkov:skip=CKV_AWS_338:Retention is set per environment (log_retention_days; 365 in the prod example, shorter in dev to save cost).
  name              = "/ecs/${var.name}/exec"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.bff.arn
}

# ---------------------------------------------------------------- cluster

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # ECS Exec sessions are encrypted with the module's key and logged,
  # encrypted, to CloudWatch.
  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.bff.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec.name
      }
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

# ---------------------------------------------------------------- roles

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The execution role: ECS itself pulls the image, reads the task's secrets
# (two, three with the session cache's URL) and writes the log stream.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-bff-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "EcrPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [aws_ecr_repository.bff.arn]
  }
  statement {
    sid     = "ReadSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [
        aws_secretsmanager_secret.client_secret.arn,
        aws_secretsmanager_secret.cookie_keys.arn,
      ],
      local.redis ? [var.redis_url_secret_arn] : [],
    )
  }
  statement {
    sid       = "DecryptSecretsAndImage"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.bff.arn]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.bff.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-image-read-secrets-write-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The task role: what the BFF's own code may call. It calls no AWS API; only
# ECS Exec needs the SSM channel and the exec log group (and, with
# metrics_sidecar, the collector its own log group: metrics_sidecar.tf).
resource "aws_iam_role" "task" {
  name               = "${var.name}-bff-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "EcsExecChannel"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "EcsExecLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.exec.arn}:*"]
  }
  statement {
    sid       = "EcsExecDescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
  statement {
    sid       = "EcsExecKms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.bff.arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---------------------------------------------------------------- task

locals {
  container_name = "bff"
  redis          = var.session_store == "redis"

  # The store is named only with redis, so the cookie store's task
  # definition stays as it was.
  container_environment = merge(
    {
      TH_LISTEN      = "0.0.0.0:${var.container_port}"
      TH_LOG__FORMAT = "json"
    },
    var.environment,
    local.redis ? { TH_SESSION__STORE = "redis" } : {},
    # Loopback only: the sidecar in the same task scrapes it, nothing else
    # can (metrics_sidecar.tf).
    var.metrics_sidecar ? { TH_METRICS__LISTEN = "127.0.0.1:${var.metrics_port}" } : {},
  )

  # Secrets reach the container from Secrets Manager (ECS reads them with the
  # execution role), never as plain environment values.
  container_secrets = concat(
    [
      { name = "TH_OIDC__CLIENT_SECRET", valueFrom = aws_secretsmanager_secret.client_secret.arn },
      { name = "TH_COOKIES__KEYS", valueFrom = aws_secretsmanager_secret.cookie_keys.arn },
    ],
    local.redis ? [{ name = "TH_REDIS__URL", valueFrom = var.redis_url_secret_arn }] : [],
  )
}

resource "aws_ecs_task_definition" "bff" {
  family                   = "${var.name}-bff"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The BFF, and with metrics_sidecar the collector (metrics_sidecar.tf).
  container_definitions = jsonencode(concat([{
    name      = local.container_name
    image     = "${aws_ecr_repository.bff.repository_url}:${var.image_deploy_tag}"
    essential = true

    # Non-root, numeric (the image's USER too), nothing writable, no extra
    # privileges: the BFF writes no file (sessions live in cookies or in the
    # session cache).
    user                   = var.container_user
    readonlyRootFilesystem = true
    privileged             = false
    linuxParameters = {
      capabilities = { drop = ["ALL"] }
    }

    portMappings = [{
      containerPort = var.container_port
      protocol      = "tcp"
    }]

    environment = [for k in sort(keys(local.container_environment)) : {
      name  = k
      value = local.container_environment[k]
    }]

    secrets = local.container_secrets

    # The scratch image has no shell or curl: the binary checks itself.
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/bff", "healthcheck", "--url", "http://127.0.0.1:${var.container_port}/healthz"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }

    # SIGTERM first; in-flight requests get this long before SIGKILL.
    stopTimeout = 30

    ulimits = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.bff.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "bff"
      }
    }
  }], local.metrics_sidecar_containers))
}

# ---------------------------------------------------------------- service

resource "aws_security_group" "tasks" {
  name        = "${var.name}-bff-tasks"
  description = "BFF tasks: traffic from the ALB only; out to HTTPS"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "From the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_out" {
  for_each          = toset([for p in var.egress_tcp_ports : tostring(p)])
  security_group_id = aws_security_group.tasks.id
  description       = "To the OpenID provider, upstream APIs and AWS endpoints"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ecs_service" "bff" {
  name                   = "bff"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.bff.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  propagate_tags         = "SERVICE"

  # The scratch image has no shell to exec into; the cluster still encrypts
  # and logs Exec sessions should a debug image turn this on.
  enable_execute_command = false

  health_check_grace_period_seconds  = 30
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = [for s in aws_subnet.private : s.id]
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.bff.arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  # Autoscaling owns the count after the first apply.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.from_cloudfront]
}

# ---------------------------------------------------------------- autoscaling

resource "aws_appautoscaling_target" "bff" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.bff.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-bff-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.bff.service_namespace
  resource_id        = aws_appautoscaling_target.bff.resource_id
  scalable_dimension = aws_appautoscaling_target.bff.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 120
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
