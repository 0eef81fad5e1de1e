from ninja import NinjaAPI

api = NinjaAPI(title="Jubileum API", version="1")
