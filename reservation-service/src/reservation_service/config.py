from hotel_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "reservation-service"
    database_url: str = "sqlite+aiosqlite:///./data/reservation-service.db"
    # Longest stay one booking may cover; longer stays are a group/long-stay contract.
    max_stay_nights: int = 30
