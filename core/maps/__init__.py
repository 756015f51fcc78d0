"""The offline folium toolkit every map is drawn with: vendored Leaflet assets, safe labels (assets), and
the transports' route map (routes). Below pmi, which draws route maps, and maps, which builds the big maps
from query results."""
