"""What the assessment keeps besides the cases: quotas, falsification findings, dismissed
repeat suggestions and frozen years."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.models import County, Township
from vault.models import Sealed

from ..models import Case, CaseDocument
from . import sheet


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


# --- the 1000-point sheet (千分制): template, inspection entries, bonuses and deductions --------


class SheetItem(models.Model):
    """One item of a county's sheet for one year, seeded from the rulebook (sheet.py) the first
    time the county edits its template or an inspector enters points; editable by the county's
    administrator until the year is frozen. A county-year without rows uses the default."""

    class Scoring(models.TextChoices):
        LATEST = sheet.LATEST, _("Entered by inspectors: the latest round counts")
        ROUNDS = sheet.ROUNDS, _("Entered by inspectors: the rounds add up (per quarter)")
        CASES = sheet.CASES, _("Computed by the system: case handling (案件查处)")
        REPORTING = sheet.REPORTING, _("Computed by the system: reporting system (有奖举报制度)")

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    code = models.CharField(_("code"), max_length=20)
    section = models.CharField(_("section"), max_length=40)
    title = models.CharField(_("rule"), max_length=300)
    max_points = models.DecimalField(_("maximum"), max_digits=7, decimal_places=2)
    scoring = models.CharField(_("how it is scored"), max_length=20, choices=Scoring.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("sheet item")
        verbose_name_plural = _("sheet items")
        ordering = ["county", "year", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year", "code"], name="one_sheet_item_per_code"
            ),
        ]

    def __str__(self):
        return f"{self.county} {self.year} {self.title}"

    def spec(self) -> sheet.ItemSpec:
        return sheet.ItemSpec(self.code, self.section, self.title, self.max_points, self.scoring)


class InspectionRound(models.TextChoices):
    Q2 = sheet.Q2, _("Second-quarter inspection (第二季度督查)")
    Q4 = sheet.Q4, _("Fourth-quarter inspection (第四季度督查)")
    YEAR = sheet.YEAR, _("Year-end assessment (年终考核)")


class InspectionEntry(models.Model):
    """The points a county inspector gave one item of one township in one round. Entering the
    same round again corrects it (audited with the points before); other rounds stay."""

    item = models.ForeignKey(
        SheetItem, on_delete=models.PROTECT, related_name="entries", verbose_name=_("item")
    )
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    round = models.CharField(_("round"), max_length=10, choices=InspectionRound.choices)
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2)
    note = models.CharField(_("note"), max_length=500, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("inspection entry")
        verbose_name_plural = _("inspection entries")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "township", "round"], name="one_entry_per_item_round"
            ),
        ]
        permissions = [
            ("inspect_township", "Can enter a township's inspection points (督查录入)"),
        ]

    def __str__(self):
        return f"{self.township} {self.item.code} {self.round}: {self.points}"


class SheetAdjustment(models.Model):
    """A bonus or deduction of 奖励惩处 (第二十四条 1–3) or a 后三类 finding (第二十五条 1–2),
    entered with its date and evidence; its points are fixed by its kind (sheet.KINDS)."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(
        _("kind"), max_length=40, choices=[(k.code, k.label) for k in sheet.KINDS.values()]
    )
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    # Withdrawn when entered by mistake: kept, shown as withdrawn, no longer counted.
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("why it was withdrawn"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("bonus or deduction")
        verbose_name_plural = _("bonuses and deductions")
        ordering = ["date", "pk"]
        indexes = [models.Index(fields=["township", "year"], name="adjustment_township_year")]

    def __str__(self):
        return f"{self.township} {self.year} {self.kind}"

    @property
    def points(self):
        return sheet.KINDS[self.kind].points


class SheetEvidence(Sealed):
    """An inspection record behind an entry or an adjustment, stored encrypted like a case
    document (vault.storage)."""

    HAS_FILE = True

    entry = models.ForeignKey(
        InspectionEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
        verbose_name=_("inspection entry"),
    )
    adjustment = models.ForeignKey(
        SheetAdjustment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
        verbose_name=_("bonus or deduction"),
    )
    mime = models.CharField(_("content type"), max_length=60)
    extension = models.CharField(_("file extension"), max_length=10)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    uploaded_at = models.DateTimeField(_("filed"), default=timezone.now)

    class Meta:
        verbose_name = _("inspection evidence")
        verbose_name_plural = _("inspection evidence")
        ordering = ["uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entry__isnull=True) ^ models.Q(adjustment__isnull=True),
                name="evidence_of_one_thing",
            ),
        ]

    def __str__(self):
        return f"evidence {self.pk}"
