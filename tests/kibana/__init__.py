"""Tests of the Kibana bundle (kibana/, pipeline/kibana/), and the sample trace other test folders share."""
