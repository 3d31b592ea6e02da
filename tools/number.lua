--[[
tools/number.lua - numbers the book's figures and listings per chapter and
fills in cross-references (pandoc 2.17 Lua filter, run after
tools/include.lua, which makes the listings):

    pandoc ... --lua-filter tools/include.lua --lua-filter tools/number.lua ...

- A figure (a picture alone in its paragraph, with a caption) is numbered
  "Figure C.N", C its chapter's number and N its place in the chapter; a
  figure without an id gets one from its file, `fig:` and the path's letters
  and digits joined by `-` (`![...](01-gil/speedup-cpu)` is
  `#fig:01-gil-speedup-cpu`). In HTML and EPUB the number starts the
  caption; LaTeX numbers its figures itself, the same way (the report class
  counts them per chapter), so the PDF's captions are left alone.
- A listing (a Div of class `listing`, tools/include.lua's) is numbered
  "Listing C.N" the same way, in every format, at the start of its caption.
- A link whose text is empty and whose target is an id in the book gets its
  text: `[](#fig:01-gil-speedup-cpu)` reads "Figure 1.1",
  `[](#lst:chapters-01-gil-gil-h-api)` "Listing 1.2", `[](#sec:gil-part-a)`
  "Section 1.7" ("Chapter 1" for a chapter, the title for an unnumbered
  section). An empty link to an id that is not in the book stops the build
  with a message naming it.
- Each numbered header gets the attribute `secnum` ("2.3"), which
  tools/index.lua reads and removes; pandoc numbers the headers themselves
  (--number-sections) the same way: a level-1 header is a chapter, and a
  header of class `unnumbered` is not counted.
]]

package.path = "tools/?.lua;" .. package.path
local booklib = require("booklib")
local fail = booklib.failer("number.lua")

local has_class = booklib.has_class

-- What an id in the book is: { kind = "figure"|"listing"|"section"|..., text = inlines }.
local targets = {}
local sections = {} -- counters per header level
local chapter, figures, listings = 0, 0, 0

local function number_in_chapter(n)
  return chapter > 0 and (chapter .. "." .. n) or tostring(n)
end

local function header(h)
  if has_class(h, "unnumbered") then
    if h.identifier ~= "" then
      targets[h.identifier] = { kind = "section", text = h.content }
    end
    return nil
  end
  local level = h.level
  sections[level] = (sections[level] or 0) + 1
  for l = level + 1, 9 do
    sections[l] = 0
  end
  if level == 1 then
    chapter, figures, listings = sections[1], 0, 0
  end
  local parts = {}
  for l = 1, level do
    parts[#parts + 1] = tostring(sections[l] or 0)
  end
  local num = table.concat(parts, ".")
  h.attributes.secnum = num
  if h.identifier ~= "" then
    local word = level == 1 and "Chapter" or "Section"
    targets[h.identifier] = { kind = "section", text = { pandoc.Str(word), pandoc.Space(), pandoc.Str(num) } }
  end
  return h
end

-- A figure: a paragraph that is one picture with a caption (pandoc marks it
-- with the title "fig:").
local function figure(para)
  if #para.content ~= 1 or para.content[1].t ~= "Image" then
    return nil
  end
  local img = para.content[1]
  if not img.title:match("^fig:") or #img.caption == 0 then
    return nil
  end
  figures = figures + 1
  local label = "Figure " .. number_in_chapter(figures)
  if img.identifier == "" then
    img.identifier = "fig:" .. img.src:gsub("%.[%w]+$", ""):gsub("[^%w]+", "-")
  end
  if targets[img.identifier] then
    fail("the id #" .. img.identifier .. " is in the book twice (give the figure an id of its own: ![...](...){#fig:name})")
  end
  targets[img.identifier] = { kind = "figure", text = { pandoc.Str(label) } }
  if not FORMAT:match("latex") then
    local caption = pandoc.List({ pandoc.Span({ pandoc.Str(label .. ":") }, pandoc.Attr("", { "figure-number" })), pandoc.Space() })
    caption:extend(img.caption)
    img.caption = caption
  end
  return para
end

local function listing(div)
  if has_class(div, "not-measured") and div.identifier ~= "" then
    -- A chart not drawn on a student's unfinished code (tools/tree.lua):
    -- a reference to it still reads, and leads to the line in its place.
    targets[div.identifier] = { kind = "figure", text = { pandoc.Str("a chart not drawn yet") } }
    return nil
  end
  if has_class(div, "instructor-note") and div.identifier ~= "" then
    targets[div.identifier] = { kind = "note", text = { pandoc.Str("a listing in the instructor edition") } }
    return nil
  end
  if not has_class(div, "listing") then
    return nil
  end
  listings = listings + 1
  local label = "Listing " .. number_in_chapter(listings)
  if div.identifier ~= "" then
    targets[div.identifier] = { kind = "listing", text = { pandoc.Str(label) } }
  end
  local cap = div.content[1]
  if cap and cap.t == "Div" and has_class(cap, "listing-caption") and cap.content[1] and cap.content[1].t == "Para" then
    local inl = pandoc.List({ pandoc.Strong({ pandoc.Str(label .. ":") }), pandoc.Space() })
    inl:extend(cap.content[1].content)
    cap.content[1].content = inl
  end
  return div
end

-- Blocks in document order, into Divs, block quotes and lists, so that the
-- counters follow the reading order.
local number_blocks
local function number_block(b)
  if b.t == "Header" then
    header(b)
  elseif b.t == "Para" then
    figure(b)
  elseif b.t == "Div" then
    listing(b)
    number_blocks(b.content)
  elseif b.t == "BlockQuote" then
    number_blocks(b.content)
  elseif b.t == "BulletList" or b.t == "OrderedList" then
    for _, item in ipairs(b.content) do
      number_blocks(item)
    end
  end
end
number_blocks = function(blocks)
  for _, b in ipairs(blocks) do
    number_block(b)
  end
end

local function fill(link)
  local id = link.target:match("^#(.+)$")
  if not id or #link.content > 0 then
    return nil
  end
  local t = targets[id]
  if not t then
    fail("a reference [](#" .. id .. ") to nothing in the book: no header, figure or listing has that id")
  end
  link.content = t.text
  return link
end

return {
  {
    Pandoc = function(doc)
      number_blocks(doc.blocks)
      return pandoc.Pandoc(pandoc.walk_block(pandoc.Div(doc.blocks), { Link = fill }).content, doc.meta)
    end,
  },
}
