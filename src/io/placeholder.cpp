// Keeps the core library non-empty until its sources land.
