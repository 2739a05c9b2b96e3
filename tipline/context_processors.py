from django.conf import settings


def site(request):
    return {
        "max_files": settings.TIPLINE_ATTACHMENT_MAX_COUNT,
    }
