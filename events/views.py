from django.http import HttpResponse


def programme(request, slug):
    return HttpResponse("stub")


def activity(request, programme_slug, slug):
    return HttpResponse("stub")


def privacy(request, slug):
    return HttpResponse("stub")


def accessibility(request, slug):
    return HttpResponse("stub")
