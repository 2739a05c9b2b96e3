"""The default model backend, reading a signed-in user together with their unit.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("staff_profile__unit__township")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
