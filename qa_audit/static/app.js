// Start GOV.UK Frontend's components (password reveal, error summary focus,
// service navigation menu, skip link) on every page.
import { initAll } from './govuk-frontend.min.js'

initAll()
