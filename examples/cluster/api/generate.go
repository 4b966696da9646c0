package api

//go:generate go run ../internal/deepcopygen -dir ..
