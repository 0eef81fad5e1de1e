"""Every admin list renders for a superuser, with the demo data loaded."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

MODELS = [model for model in admin.site._registry]


@pytest.fixture
def demo(db):
    call_command("load_demo")


@pytest.mark.parametrize(
    "model", MODELS, ids=[f"{m._meta.app_label}.{m._meta.model_name}" for m in MODELS]
)
def test_admin_changelist_renders(admin_client, demo, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"<!DOCTYPE html>" in response.content or b"<!doctype html>" in response.content
