// Start GOV.UK Frontend's components (password reveal, error summary focus,
// service navigation menu, skip link) on every page.
import { initAll } from './govuk-frontend.min.js'

initAll()
initSortableTables(document)

// ---------------------------------------------------------------------------
// Sortable tables, following MOJ Frontend's sortable table pattern.
//
// A <table data-module="app-sortable-table"> gets a button in each header cell
// that has an aria-sort attribute. Pressing it sorts the body's rows by that
// column (ascending first, then descending), sets aria-sort on that heading and
// "none" on the others, and says what happened in a polite live region. A cell
// may carry data-sort-value (an ISO date, a rank); values that are both numbers
// sort as numbers, others as text. Without JavaScript the table keeps the
// server's order, which is already a sensible one.
// ---------------------------------------------------------------------------
function initSortableTables (scope) {
  const tables = scope.querySelectorAll('table[data-module="app-sortable-table"]')
  tables.forEach(function (table) {
    if (table.hasAttribute('data-sortable-ready')) {
      return
    }
    table.setAttribute('data-sortable-ready', 'true')
    const headings = Array.from(table.querySelectorAll('thead th'))
    const body = table.tBodies[0]
    if (!body) {
      return
    }

    const status = document.createElement('div')
    status.className = 'govuk-visually-hidden'
    status.setAttribute('role', 'status')
    status.setAttribute('aria-live', 'polite')
    table.insertAdjacentElement('afterend', status)

    function valueOf (row, index) {
      const cell = row.cells[index]
      if (!cell) {
        return ''
      }
      const value = cell.getAttribute('data-sort-value')
      return value !== null ? value : cell.textContent.trim()
    }

    function compare (a, b) {
      const x = Number(a)
      const y = Number(b)
      if (a !== '' && b !== '' && !Number.isNaN(x) && !Number.isNaN(y)) {
        return x - y
      }
      return a.localeCompare(b, 'en-GB', { numeric: true, sensitivity: 'base' })
    }

    function sortBy (heading, index, label) {
      const direction = heading.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending'
      const sign = direction === 'ascending' ? 1 : -1
      const rows = Array.from(body.rows)
      rows.sort(function (first, second) {
        return sign * compare(valueOf(first, index), valueOf(second, index))
      })
      rows.forEach(function (row) {
        body.appendChild(row)
      })
      headings.forEach(function (other) {
        if (other.hasAttribute('aria-sort')) {
          other.setAttribute('aria-sort', 'none')
        }
      })
      heading.setAttribute('aria-sort', direction)
      status.textContent = 'Sorted by ' + label + ', ' + direction
    }

    headings.forEach(function (heading, index) {
      if (!heading.hasAttribute('aria-sort')) {
        return
      }
      const label = heading.textContent.trim()
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'app-sortable-table__button'
      button.textContent = label
      heading.textContent = ''
      heading.appendChild(button)
      button.addEventListener('click', function () {
        sortBy(heading, index, label)
      })
    })
  })
}
