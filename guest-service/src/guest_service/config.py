from hotel_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "guest-service"
    database_url: str = "sqlite+aiosqlite:///./data/guest-service.db"
