"""What the assessment keeps besides the cases: quotas, falsification findings, dismissed
repeat suggestions and frozen years."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.models import County, Township

from ..models import Case, CaseDocument


class TownshipQuota(models.Model):
    """The county's case quota (县定任务) of one township for one year."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="quotas", verbose_name=_("township")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    quota = models.PositiveIntegerField(_("case quota (县定任务)"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
    )
    updated_at = models.DateTimeField(_("set"), default=timezone.now)

    class Meta:
        verbose_name = _("township quota")
        verbose_name_plural = _("township quotas")
        ordering = ["-year", "township__code"]
        constraints = [
            models.UniqueConstraint(fields=["township", "year"], name="one_quota_per_year"),
        ]

    def __str__(self):
        return f"{self.township} {self.year}: {self.quota}"


class CaseFalsification(models.Model):
    """A case found, after verification (查实), to have been falsified (弄虚作假)."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="falsification", verbose_name=_("case")
    )
    reason = models.TextField(_("finding"))
    document = models.OneToOneField(
        CaseDocument, on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("marked by"),
    )
    marked_at = models.DateTimeField(_("marked"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("falsified case")
        verbose_name_plural = _("falsified cases")
        permissions = [("mark_falsified", "Can mark a case as falsified (弄虚作假)")]

    def __str__(self):
        return f"falsified: {self.case}"


class RepeatDismissal(models.Model):
    """A clerk judged that a report does not repeat a suggested case: not suggested again."""

    report = models.ForeignKey(
        "tipline.Report",
        on_delete=models.CASCADE,
        related_name="repeat_dismissals",
        verbose_name=_("report"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("judged by"),
    )
    dismissed_at = models.DateTimeField(_("judged"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissed repeat suggestion")
        verbose_name_plural = _("dismissed repeat suggestions")
        constraints = [
            models.UniqueConstraint(fields=["report", "case"], name="one_dismissal_per_pair"),
        ]

    def __str__(self):
        return f"{self.report_id} is not a repeat of {self.case_id}"


class AssessmentFreeze(models.Model):
    """A county's assessment of one year, frozen: the figures as they stood, never recomputed."""

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("frozen by"),
    )
    frozen_at = models.DateTimeField(_("frozen"), default=timezone.now)
    # The assessment_report JSON of every township at the time of freezing.
    snapshot = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("frozen assessment")
        verbose_name_plural = _("frozen assessments")
        ordering = ["-year", "county__code"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="one_freeze_per_county_year"),
        ]
        permissions = [
            ("view_assessment", "Can see the township assessment (考核)"),
            ("freeze_assessment", "Can freeze a year of the assessment"),
        ]

    def __str__(self):
        return f"{self.county} {self.year} (frozen)"
