"""How logtrace connects to Elasticsearch (`LOGTRACE_ES_*`), and the one factory for the async client."""

from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pipeline.config.endpoint import HttpEndpointSettings


class ElasticsearchSettings(HttpEndpointSettings):
    """Connection settings; `client()` builds the AsyncElasticsearch every component shares."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_ES_")

    # Base URL of the cluster, http(s)://host:port, without credentials.
    url: str = "http://127.0.0.1:9200"
    # Seconds one HTTP request may take (a large bulk request included); must be > 0.
    request_timeout_s: float = Field(default=30.0, gt=0)

    def client(self) -> AsyncElasticsearch:
        """A new AsyncElasticsearch for these settings (the caller closes it).

        Client-side retries are off: the sink owns retrying, item by item, with its own backoff.
        Responses are parsed with orjson (a bulk response of thousands of items is parsed per request).
        """
        options: dict[str, object] = {
            "serializer": OrjsonSerializer(),
            "request_timeout": self.request_timeout_s,
            "max_retries": 0,
            "retry_on_timeout": False,
        }
        if self.api_key is not None:
            options["api_key"] = self.api_key.get_secret_value()
        elif self.username is not None and self.password is not None:
            options["basic_auth"] = (self.username.get_secret_value(), self.password.get_secret_value())
        if self.url.startswith("https://"):
            options["verify_certs"] = self.verify_certs
            if self.ca_certs is not None:
                options["ca_certs"] = str(self.ca_certs)
        return AsyncElasticsearch(self.url, **options)
