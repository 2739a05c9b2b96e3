from django.conf import settings


def site(request):
    return {
        "reward_amount": settings.TIPLINE_REWARD_AMOUNT,
        "max_files": settings.TIPLINE_ATTACHMENT_MAX_COUNT,
    }
