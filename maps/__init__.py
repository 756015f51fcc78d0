"""Maps built from query results with folium; reads, never writes."""
