"""Jurisdiction and staff: county → township, units (部门), and the unit each staff member is in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class County(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # What a reporter is told when claiming a reward (set by the county's administrator in the
    # admin; the public pages say something sensible while they are empty).
    finance_window_address = models.CharField(
        _("finance window address"),
        max_length=200,
        blank=True,
        help_text=_(
            "Where a reporter collects a reward in person, as the reporter should read it."
        ),
    )
    finance_window_hours = models.CharField(
        _("finance window opening hours"),
        max_length=200,
        blank=True,
        help_text=_("For example: Monday to Friday 9:00-12:00 and 14:00-17:00, except holidays."),
    )
    reward_payment_working_days = models.PositiveSmallIntegerField(
        _("reward paid within (working days)"),
        null=True,
        blank=True,
        help_text=_("How many working days after a claim finance pays a reward by bank transfer."),
    )

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Township(models.Model):
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="townships", verbose_name=_("county")
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    reporting_phone = models.CharField(_("reporting phone"), max_length=40, blank=True)
    reporting_mailbox = models.CharField(
        _("reporting mailbox location"), max_length=200, blank=True
    )
    active = models.BooleanField(_("accepts reports"), default=True)

    class Meta:
        verbose_name = _("township")
        verbose_name_plural = _("townships")
        ordering = ["county__code", "code"]

    def __str__(self):
        return self.name


class Unit(models.Model):
    class Kind(models.TextChoices):
        FAMILY_PLANNING = "family_planning", _("Family planning office (计生办)")
        HEALTH_CENTER = "health_center", _("Health centre (卫生院)")
        POLICE = "police", _("Police station (派出所)")
        DRUG_ADMIN = "drug_admin", _("Drug administration (药监)")
        MARKET_REGULATION = "market_regulation", _("Market regulation (工商/市场监管)")
        DISCIPLINE = "discipline", _("Discipline inspection (纪委)")
        FINANCE = "finance", _("Finance office (财政所)")

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="units", verbose_name=_("county")
    )
    # Empty township: a county-level unit, whose staff see every township of the county.
    township = models.ForeignKey(
        Township,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("township"),
        help_text=_("Empty for a county-level unit, whose staff see every township."),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["county", "township", "kind"], name="unique_unit_kind"),
        ]

    def __str__(self):
        return self.name


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="staff", verbose_name=_("unit")
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self):
        return f"{self.user} @ {self.unit}"
