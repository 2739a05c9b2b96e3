"""Staff roles: Django groups and the permissions each holds (synced after every migrate)."""

CLERK = "clerk"
INVESTIGATOR = "investigator"
SUPERVISOR = "supervisor"
CUSTODIAN = "custodian"
FINANCE = "finance"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"

ALL = (CLERK, INVESTIGATOR, SUPERVISOR, CUSTODIAN, FINANCE, AUDITOR, ADMINISTRATOR)


_VIEW = ["casework.view_case", "tipline.view_report"]
ROLE_PERMISSIONS = {
    CLERK: [*_VIEW, "casework.triage_report", "casework.assign_case"],
    INVESTIGATOR: [*_VIEW, "casework.investigate_case", "casework.request_identity"],
    SUPERVISOR: [
        *_VIEW,
        "casework.triage_report",
        "casework.assign_case",
        "casework.investigate_case",
        "casework.decide_case",
        "casework.extend_deadline",
        "casework.archive_case",
        "casework.request_identity",
    ],
    CUSTODIAN: [*_VIEW, "casework.decide_identity"],
    FINANCE: [*_VIEW],
    AUDITOR: [*_VIEW, "casework.view_audit", "casework.view_auditentry"],
    ADMINISTRATOR: [
        *_VIEW,
        "casework.view_audit",
        "org.add_township",
        "org.change_township",
        "org.add_unit",
        "org.change_unit",
        "org.add_staffprofile",
        "org.change_staffprofile",
        "casework.add_documenttype",
        "casework.change_documenttype",
        "notifications.view_delivery",
        "notifications.view_event",
        "notifications.retry_delivery",
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
