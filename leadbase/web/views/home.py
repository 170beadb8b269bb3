"""The home page: counts per stage, new this week, duplicates to review, recent imports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadbase.leads.queries import home_counts, imports_for_user
from leadbase.web.access import member_required


@member_required
def home(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    return render(
        request,
        "web/home.html",
        {
            "counts": home_counts(membership),
            "imports": imports_for_user(membership, limit=5) if membership.can_manage else [],
            "nav": "home",
        },
    )
