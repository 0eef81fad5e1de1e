from django.http import HttpResponse


def programme_ics(request, slug):
    return HttpResponse("stub")


def activity_ics(request, programme_slug, slug):
    return HttpResponse("stub")
