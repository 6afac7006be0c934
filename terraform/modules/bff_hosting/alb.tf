# The BFF's HTTPS entry: an ALB in the public subnets (HTTPS only: its one
# client, CloudFront, reaches it https-only), a WAF in front of it, tasks
# reached on container_port in the private ones.

# Browsers reach the BFF through the SPA's CloudFront distributions only:
# the ALB admits CloudFront's origin-facing addresses, and serves a request
# only when it carries the secret header CloudFront adds.
data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "random_password" "origin_verify" {
  length  = 48
  special = false
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "BFF load balancer: HTTPS from CloudFront"
  vpc_id      = aws_vpc.this.id
}

# One rule only: the origin-facing prefix list weighs about 55 rules against
# the security group's quota of 60, so a second rule that references it
# (port 80, say) makes `apply` fail with RulesPerSecurityGroupLimitExceeded.
resource "aws_vpc_security_group_ingress_rule" "alb_from_cloudfront" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from CloudFront origin-facing servers"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the BFF tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_76:The WAF carries AWSManagedRulesKnownBadInputsRuleSet (its Log4JRCE rules); the check also demands AWSManagedRulesAnonymousIpList, which would lock out users behind VPNs and privacy relays.
  name                       = substr("${var.name}-bff", 0, 32)
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = [for s in aws_subnet.public : s.id]
  ip_address_type            = "ipv4"
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  desync_mitigation_mode     = "strictest"

  access_logs {
    bucket  = var.log_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "bff" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the task stays inside the VPC's private subnets and the scratch image carries no certificate.
  name                 = substr("${var.name}-bff", 0, 32)
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  deregistration_delay = 30

  health_check {
    path                = "/healthz"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  # Anything that did not come through CloudFront.
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = jsonencode({ code = "forbidden", message = "use the app's own origin" })
      status_code  = "403"
    }
  }
}

resource "aws_lb_listener_rule" "from_cloudfront" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  condition {
    http_header {
      http_header_name = var.origin_verify_header
      values           = [random_password.origin_verify.result]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.bff.arn
  }
}

resource "aws_route53_record" "bff" {
  for_each = toset(["A", "AAAA"])

  zone_id = var.zone_id
  name    = var.host
  type    = each.key

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}

# ---------------------------------------------------------------- WAF

resource "aws_wafv2_web_acl" "bff" {
  name        = "${var.name}-bff"
  description = "AWS managed common and known-bad-input rules in front of the BFF"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "common"
    priority = 10
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"

        # Counted, not blocked: bodies over 8 KB are ordinary API calls
        # (the proxy enforces each route's max_body_bytes), and the chunked
        # token cookies can pass 10 KB. The metrics still show them.
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
        rule_action_override {
          name = "SizeRestrictions_Cookie_HEADER"
          action_to_use {
            count {}
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "known-bad-inputs"
    priority = 20
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-bff"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "bff" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.bff.arn
}

resource "aws_cloudwatch_log_group" "waf" {
  #checkov:skip=CKV_AWS_338:Retention is set per environment (log_retention_days; 365 in the prod example, shorter in dev to save cost).
  # WAF requires the aws-waf-logs- prefix.
  name              = "aws-waf-logs-${var.name}-bff"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.bff.arn
}

resource "aws_wafv2_web_acl_logging_configuration" "bff" {
  resource_arn            = aws_wafv2_web_acl.bff.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  # Cookies carry the sealed tokens, and CloudFront's secret header is what
  # lets a request past the ALB: never log either.
  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
  redacted_fields {
    single_header {
      name = lower(var.origin_verify_header)
    }
  }
}
