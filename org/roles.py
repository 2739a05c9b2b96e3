"""Staff roles: Django groups and the permissions each holds (synced after every migrate)."""

CLERK = "clerk"
INVESTIGATOR = "investigator"
SUPERVISOR = "supervisor"
CUSTODIAN = "custodian"
FINANCE = "finance"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"
INSPECTOR = "inspector"  # the county's 督查 (assessment inspections); county staff only

ALL = (CLERK, INVESTIGATOR, SUPERVISOR, CUSTODIAN, FINANCE, AUDITOR, ADMINISTRATOR, INSPECTOR)


# Everyone sees the assessment of their townships (county staff and auditors: the whole county).
_VIEW = ["assessment.view_assessment"]
# Reading reports (their text, attachments, identity requests) and cases (pages, file, documents)
# is for the people who work them and those who review that work. Finance pays a reward from its
# own pages and the administrator configures the organisation: neither reads a report or a case.
_READ = ["casework.view_case", "tipline.view_report"]
_WORK = [*_READ, *_VIEW]
ROLE_PERMISSIONS = {
    CLERK: [*_WORK, "casework.triage_report", "casework.assign_case", "rewards.mark_report"],
    INVESTIGATOR: [*_WORK, "casework.investigate_case", "casework.request_identity"],
    SUPERVISOR: [
        *_WORK,
        "casework.triage_report",
        "casework.assign_case",
        "casework.investigate_case",
        "casework.decide_case",
        "casework.extend_deadline",
        "casework.archive_case",
        "casework.request_identity",
        "assessment.mark_falsified",
        "rewards.view_reward",
        "rewards.approve_reward",
        "rewards.cancel_reward",
        "rewards.mark_report",
    ],
    CUSTODIAN: [*_WORK, "casework.decide_identity"],
    FINANCE: [*_VIEW, "rewards.view_reward", "rewards.pay_reward", "rewards.view_ledger"],
    AUDITOR: [
        *_WORK,
        "casework.view_audit",
        "casework.view_auditentry",
        "rewards.view_reward",
        "rewards.view_ledger",
    ],
    ADMINISTRATOR: [
        *_VIEW,
        "casework.view_audit",
        "org.view_county",
        "org.change_county",  # the finance window and payment time told to reporters
        "org.add_township",
        "org.change_township",
        "org.add_unit",
        "org.change_unit",
        "org.add_staffprofile",
        "org.change_staffprofile",
        "casework.add_documenttype",
        "casework.change_documenttype",
        "assessment.view_townshipquota",
        "assessment.add_townshipquota",
        "assessment.change_townshipquota",
        "assessment.freeze_assessment",
        "assessment.view_sheetitem",
        "assessment.view_inspectionentry",
        "assessment.view_sheetadjustment",
        "rewards.view_reward",
        "rewards.view_rewardpolicy",
        "rewards.add_rewardpolicy",
        "rewards.change_rewardpolicy",
        "rewards.view_rewardtier",
        "rewards.add_rewardtier",
        "rewards.change_rewardtier",
        "rewards.delete_rewardtier",
        "notifications.view_delivery",
        "notifications.view_event",
        "notifications.retry_delivery",
    ],
    # Enters the 1000-point sheet's inspection points, bonuses and deductions of the county's
    # townships (the service refuses township staff, whatever their groups).
    INSPECTOR: [
        "assessment.view_assessment",
        "assessment.inspect_township",
        "assessment.view_inspectionentry",
        "assessment.view_sheetadjustment",
    ],
}


def sync_groups(**kwargs) -> None:
    """Create the role groups with their permissions (runs after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
