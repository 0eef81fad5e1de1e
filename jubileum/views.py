from django.http import HttpResponse


def home(request):
    return HttpResponse("stub")


def healthz(request):
    return HttpResponse("stub")


def robots_txt(request):
    return HttpResponse("stub")
