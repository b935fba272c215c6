from orderdesk import roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_roles = roles.roles_of(user)
    return {
        "user_roles": sorted(user_roles),
        "unread_notifications": user.notifications.filter(read=False).count(),
    }
