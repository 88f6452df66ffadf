# An organisation's Identity Center configuration as Terraform writes it,
# applied to tobira-idc (crates/tobira-idc/tests/terraform.rs runs it with the
# hashicorp/aws provider from a local mirror). The keys are AWS's documentation
# pair, which the demo directory names in instance.administrators.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "display_name" {
  type    = string
  default = "Dana Example"
}

variable "session_duration" {
  type    = string
  default = "PT8H"
}

variable "tags" {
  type    = map(string)
  default = { team = "platform" }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_credentials_validation = false
  endpoints {
    ssoadmin      = var.endpoint
    identitystore = var.endpoint
    sts           = var.endpoint
  }
}

data "aws_ssoadmin_instances" "this" {}

locals {
  instance_arn = tolist(data.aws_ssoadmin_instances.this.arns)[0]
  store_id     = tolist(data.aws_ssoadmin_instances.this.identity_store_ids)[0]
}

resource "aws_identitystore_user" "dana" {
  identity_store_id = local.store_id
  user_name         = "dana"
  display_name      = var.display_name
  name {
    given_name  = "Dana"
    family_name = "Example"
  }
  emails {
    value   = "dana@example.com"
    primary = true
  }
}

resource "aws_identitystore_group" "deployers" {
  identity_store_id = local.store_id
  display_name      = "deployers"
  description       = "People who deploy"
}

resource "aws_identitystore_group_membership" "dana" {
  identity_store_id = local.store_id
  group_id          = aws_identitystore_group.deployers.group_id
  member_id         = aws_identitystore_user.dana.user_id
}

resource "aws_ssoadmin_permission_set" "deploy" {
  name             = "Deploy"
  description      = "Deployments"
  instance_arn     = local.instance_arn
  session_duration = var.session_duration
  tags             = var.tags
}

resource "aws_ssoadmin_managed_policy_attachment" "read_only" {
  instance_arn       = local.instance_arn
  managed_policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
}

resource "aws_ssoadmin_permission_set_inline_policy" "buckets" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  inline_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:ListAllMyBuckets"], Resource = "*" }]
  })
}

resource "aws_ssoadmin_customer_managed_policy_attachment" "extra" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  customer_managed_policy_reference {
    name = "OpsExtra"
    path = "/team/"
  }
}

resource "aws_ssoadmin_permissions_boundary_attachment" "boundary" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  permissions_boundary {
    managed_policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
  }
}

resource "aws_ssoadmin_account_assignment" "deployers_dev" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  principal_id       = aws_identitystore_group.deployers.group_id
  principal_type     = "GROUP"
  target_id          = "222222222222"
  target_type        = "AWS_ACCOUNT"
}

output "user_id" {
  value = aws_identitystore_user.dana.user_id
}

output "permission_set_arn" {
  value = aws_ssoadmin_permission_set.deploy.arn
}
