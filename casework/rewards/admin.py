"""The reward policy, edited in the admin by county administrators (their county only); the
default policy (no county) by superusers. Rewards themselves change only through the services."""

from django.contrib import admin
from django.db import transaction

from org.models import County
from org.scope import townships_for

from .. import audit
from ..audit_catalogue import Action
from .models import Reward, RewardPolicy, RewardTier


def _county_id(user):
    profile = getattr(user, "staff_profile", None)
    return profile.unit.county_id if profile is not None else None


class RewardTierInline(admin.TabularInline):
    model = RewardTier
    extra = 1


@admin.register(RewardPolicy)
class RewardPolicyAdmin(admin.ModelAdmin):
    """Amounts by category and outcome, a cap, the claim window, and the date it applies from.
    A reward keeps the amount of the policy in force when it was proposed."""

    list_display = ("county", "effective_from", "default_amount", "cap", "claim_window_days")
    list_filter = ("county",)
    inlines = [RewardTierInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("county")
        if request.user.is_superuser:
            return qs
        return qs.filter(county_id=_county_id(request.user)) | qs.filter(county__isnull=True)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or request.user.is_superuser:
            return allowed
        return allowed and obj.county_id is not None and obj.county_id == _county_id(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # rewards refer to the policy they were priced by

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "county" and not request.user.is_superuser:
            kwargs["queryset"] = County.objects.filter(pk=_county_id(request.user))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            policy = form.instance
            audit.record(
                request.user,
                Action.REWARD_POLICY_CHANGED,
                policy,
                created=not change,
                county=policy.county_id,
                effective_from=policy.effective_from,
                default_amount=policy.default_amount,
                cap=policy.cap,
                claim_window_days=policy.claim_window_days,
                tiers=[
                    [t.category, t.outcome, str(t.amount)]
                    for t in policy.tiers.order_by("outcome", "category")
                ],
            )


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    """Read-only: rewards change only through the staff pages and their services (audited)."""

    list_display = ("case", "township", "state", "amount", "proposed_at", "claim_due")
    list_filter = ("state", "township")
    list_select_related = ("case", "township")
    fields = ("case", "township", "state", "amount", "outcome", "proposed_at", "claim_due")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(township__in=townships_for(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
