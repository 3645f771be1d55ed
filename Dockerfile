# One image for the whole workspace; each compose service runs its own app from it.
FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY . .
RUN uv sync --frozen --all-packages --no-dev
ENV PATH=/app/.venv/bin:$PATH
EXPOSE 8000
CMD ["uvicorn", "--factory", "gateway.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
