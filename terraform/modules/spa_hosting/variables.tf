variable "name" {
  description = "Prefix of resource names, e.g. token-handler-dev."
  type        = string
}

variable "bucket_name" {
  description = "Name of the private bucket that holds every client's dist/."
  type        = string
}

variable "wasm_clients" {
  description = "subdomain => S3 folder."
  type        = map(string)
}

variable "hosts" {
  description = "subdomain => full host name (the one alias of that client's distribution)."
  type        = map(string)
}

variable "zone_id" {
  description = "Route53 zone for the alias records."
  type        = string
}

variable "certificate_arn" {
  description = "Validated ACM certificate in us-east-1 covering every host."
  type        = string
}

variable "bff_origin_domain" {
  description = "Host name of the BFF's load balancer (its certificate's name); CloudFront forwards bff_path_patterns there."
  type        = string
}

variable "bff_path_patterns" {
  description = "Paths served by the BFF on the SPA's own origin (the SPA calls them same-origin)."
  type        = list(string)
  default     = ["/bff/*", "/api/*"]
}

variable "origin_verify_header" {
  description = "Name of the header CloudFront adds so the load balancer serves only CloudFront."
  type        = string
  default     = "X-Origin-Verify"
}

variable "origin_verify_value" {
  description = "Secret value of origin_verify_header."
  type        = string
  sensitive   = true
}

variable "log_bucket_domain_name" {
  description = "Bucket domain name for CloudFront standard logs."
  type        = string
}

variable "log_bucket" {
  description = "Bucket name for the SPA bucket's server access logs."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "hsts_max_age_seconds" {
  description = "Strict-Transport-Security max-age."
  type        = number
  default     = 63072000
}
